package dev.reliablestore.benchmarks.suite;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.zookeeper.AsyncCallback;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Stat;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * What the shape of a save's {@code multi} costs a ZooKeeper server, with no ReliableStore code in
 * the way: hand-built multis on a plain {@link ZooKeeper} handle beside {@code setData} of the same
 * 1 KB on the same handle. {@link #saveShape} is the multi a lone provider save sends today (the
 * version checks of the six keys above the version record, the create and delete that prove the
 * transaction lock absent, the envelope, the version record conditioned on its version, the
 * {@code seq} touch and the change-log entry that copies the value); the others are the layouts one
 * could move to (no guards at all, one epoch znode instead of the ancestors' checks, one znode per
 * entity holding its version, a change-log entry without the value, and the least a fenced save must
 * write). If none of them is measurably cheaper than {@code saveShape}, no layout change closes the
 * gap between a save and {@code setData}. The batch methods do the same for {@code saveBatch(100)}:
 * {@link #rawBatch100} is the engine's own 100-value multi (its time over {@code setData}'s is what a
 * batch costs ZooKeeper with nothing of ours in it), {@link #saveBatchShape} the multi a
 * {@code saveBatch} of 100 sends today, compared with {@link #saveShape}. Not part of the quick suite: {@code benchmarks/run.sh ratios
 * shapes} runs it in alternating forks (the smoke test runs it once).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class ZooKeeperMultiShapeBench {

    static final int ENTITIES = 1_000;
    static final int BATCH = 100;
    static final List<ACL> OPEN = ZooDefs.Ids.OPEN_ACL_UNSAFE;
    static final String ROOT = "/shape/data";
    // the keys above a provider save's version record, top-down, as the registry lays them out
    static final String[] ANCESTORS = {ROOT, ROOT + "/ReliableStore-Bench", ROOT + "/ReliableStore-Bench/Bench",
            ROOT + "/ReliableStore-Bench/Bench/Entities", ROOT + "/ReliableStore-Bench/Bench/Entities/Order",
            ROOT + "/ReliableStore-Bench/Bench/Entities/Order/_versions"};
    static final String TYPE = ANCESTORS[4];
    static final String VERSIONS = ANCESTORS[5];
    static final String LOCK = ROOT + "/ReliableStore-Bench/Bench/Transactions";
    static final String SEQ = "/shape/seq";
    static final String EPOCH = "/shape/epoch";
    static final String LOG = "/shape/log";

    /** The ensemble and one plain ZooKeeper handle on it, with 1,000 entities in the provider's shape and 1,000 raw znodes. */
    @State(Scope.Benchmark)
    public static class Target {
        /** Servers in the ensemble: 1 or 3. */
        @Param({"1", "3"})
        public int nodes;

        ZooKeeperEnsemble ensemble;
        CuratorFramework client;
        ZooKeeper zk;
        byte[] value;
        byte[] logEntry;
        byte[] batchLogEntry;
        // a change-log entry that names the batch's changes without their values, made once: not part of what is measured
        final byte[] batchNamesEntry = new byte[64 * BATCH];
        byte[] versionRecord = new byte[10];
        int[] envelopeVersions = new int[ENTITIES];
        int[] recordVersions = new int[ENTITIES];
        long next;

        @Setup(Level.Trial)
        public void start() throws Exception {
            ensemble = ZooKeeperEnsemble.start(nodes);
            client = CuratorFrameworkFactory.newClient(ensemble.connectString(), new RetryOneTime(100));
            client.start();
            client.blockUntilConnected();
            zk = client.getZookeeperClient().getZooKeeper();
            value = new byte[1024];
            new Random(42).nextBytes(value);
            // a change-log entry: a header, the paths and the value it carries
            logEntry = new byte[1100];
            System.arraycopy(value, 0, logEntry, 60, value.length);
            batchLogEntry = new byte[BATCH * logEntry.length];
            for (int k = 0; k < BATCH; k++) {
                System.arraycopy(logEntry, 0, batchLogEntry, k * logEntry.length, logEntry.length);
            }
            create("/shape", new byte[0]);
            for (String key : ANCESTORS) {
                create(key, new byte[0]);
            }
            for (String node : new String[] {SEQ, EPOCH, LOG, "/raw"}) {
                create(node, new byte[0]);
            }
            // pipelined: the smoke test starts this state once per method
            CountDownLatch created = new CountDownLatch(3 * ENTITIES);
            AsyncCallback.StringCallback done = (rc, path, ctx, name) -> {
                if (rc == KeeperException.Code.OK.intValue()) {
                    created.countDown();
                }
            };
            for (int i = 0; i < ENTITIES; i++) {
                zk.create(TYPE + "/=O-" + i, value, OPEN, CreateMode.PERSISTENT, done, null);
                zk.create(VERSIONS + "/=O-" + i, versionRecord, OPEN, CreateMode.PERSISTENT, done, null);
                zk.create("/raw/O-" + i, value, OPEN, CreateMode.PERSISTENT, done, null);
            }
            if (!created.await(60, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the " + 3 * ENTITIES + " znodes of the setup were not all created in 60 s");
            }
        }

        private void create(String path, byte[] data) throws Exception {
            zk.create(path, data, OPEN, CreateMode.PERSISTENT);
        }

        /** Empties the change log between iterations (the registry's collection does it in the background), so the tree does not grow. */
        @TearDown(Level.Iteration)
        public void collectLog() throws Exception {
            List<String> entries = zk.getChildren(LOG, false);
            CountDownLatch done = new CountDownLatch(entries.size());
            for (String entry : entries) {
                zk.delete(LOG + "/" + entry, -1, (rc, path, ctx) -> done.countDown(), null);
            }
            if (!done.await(60, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the change log's " + entries.size() + " entries were not deleted in 60 s");
            }
        }

        @TearDown(Level.Trial)
        public void stop() throws Exception {
            client.close();
            ensemble.close();
        }

        int entity() {
            return (int) (next++ % ENTITIES);
        }

        String nextLogEntry() {
            return LOG + "/e-" + next;
        }

        void ancestorChecks(List<Op> ops, int count) {
            for (int k = 0; k < count; k++) {
                ops.add(Op.check(ANCESTORS[k], -1));
            }
        }

        void lockProof(List<Op> ops) {
            ops.add(Op.create(LOCK, new byte[0], OPEN, CreateMode.PERSISTENT));
            ops.add(Op.delete(LOCK, -1));
        }

        void values(List<Op> ops, int e) {
            ops.add(Op.setData(TYPE + "/=O-" + e, value, -1));
            envelopeVersions[e]++;
            ops.add(Op.setData(VERSIONS + "/=O-" + e, versionRecord, recordVersions[e]++));
        }

        /** Appends what every save ends with (the seq touch and the change-log entry) and sends the multi. */
        List<OpResult> commit(List<Op> ops, byte[] entry) throws KeeperException, InterruptedException {
            ops.add(Op.setData(SEQ, new byte[0], -1));
            ops.add(Op.create(nextLogEntry(), entry, OPEN, CreateMode.PERSISTENT));
            return zk.multi(ops);
        }
    }

    @Benchmark
    public Stat rawSetData(Target t) throws Exception {
        return t.zk.setData("/raw/O-" + t.entity(), t.value, -1);
    }

    /** The 12 ops of a lone provider save today. */
    @Benchmark
    public List<OpResult> saveShape(Target t) throws Exception {
        return todaysSave(t, t.logEntry);
    }

    private static List<OpResult> todaysSave(Target t, byte[] logEntry) throws Exception {
        int e = t.entity();
        List<Op> ops = new ArrayList<>(12);
        t.ancestorChecks(ops, ANCESTORS.length);
        t.lockProof(ops);
        t.values(ops, e);
        return t.commit(ops, logEntry);
    }

    /** The engine's own batch: one multi of 100 {@code setData} of 1 KB, nothing else. */
    @Benchmark
    public List<OpResult> rawBatch100(Target t) throws Exception {
        List<Op> ops = new ArrayList<>(BATCH);
        for (int k = 0; k < BATCH; k++) {
            ops.add(Op.setData("/raw/O-" + t.entity(), t.value, -1));
        }
        return t.zk.multi(ops);
    }

    /** The multi of a {@code saveBatch} of 100 today: the guards once, two writes per entity, one change-log entry carrying the 100 values. */
    @Benchmark
    public List<OpResult> saveBatchShape(Target t) throws Exception {
        return todaysBatch(t, t.batchLogEntry);
    }

    /** The same with a change-log entry that names the 100 changes but does not copy their values. */
    @Benchmark
    public List<OpResult> batchLogWithoutValues(Target t) throws Exception {
        return todaysBatch(t, t.batchNamesEntry);
    }

    private static List<OpResult> todaysBatch(Target t, byte[] logEntry) throws Exception {
        List<Op> ops = new ArrayList<>(2 * BATCH + 10);
        t.ancestorChecks(ops, ANCESTORS.length);
        t.lockProof(ops);
        for (int k = 0; k < BATCH; k++) {
            t.values(ops, t.entity());
        }
        return t.commit(ops, logEntry);
    }

    /** The same writes with no guard at all (not a correct save: the bound of what guards can cost). */
    @Benchmark
    public List<OpResult> withoutGuards(Target t) throws Exception {
        int e = t.entity();
        List<Op> ops = new ArrayList<>(4);
        t.values(ops, e);
        return t.commit(ops, t.logEntry);
    }

    /** One epoch znode and the parent instead of the six ancestors' checks. */
    @Benchmark
    public List<OpResult> epochGuards(Target t) throws Exception {
        int e = t.entity();
        List<Op> ops = new ArrayList<>(8);
        ops.add(Op.check(EPOCH, -1));
        ops.add(Op.check(VERSIONS, -1));
        t.lockProof(ops);
        t.values(ops, e);
        return t.commit(ops, t.logEntry);
    }

    /** One znode per entity that holds its version: no version record. */
    @Benchmark
    public List<OpResult> oneZnodePerEntity(Target t) throws Exception {
        int e = t.entity();
        List<Op> ops = new ArrayList<>(10);
        t.ancestorChecks(ops, 5);
        t.lockProof(ops);
        ops.add(Op.setData(TYPE + "/=O-" + e, t.value, t.envelopeVersions[e]++));
        return t.commit(ops, t.logEntry);
    }

    /** Today's save with a change-log entry that names the change but does not copy the value. */
    @Benchmark
    public List<OpResult> logWithoutValue(Target t) throws Exception {
        return todaysSave(t, new byte[64]);
    }

    /** The least a save with a fence can write: the value and its commit marker, nothing else. */
    @Benchmark
    public List<OpResult> valueAndMarker(Target t) throws Exception {
        int e = t.entity();
        List<Op> ops = new ArrayList<>(2);
        ops.add(Op.setData(TYPE + "/=O-" + e, t.value, -1));
        ops.add(Op.create(t.nextLogEntry(), new byte[64], OPEN, CreateMode.PERSISTENT));
        return t.zk.multi(ops);
    }
}
