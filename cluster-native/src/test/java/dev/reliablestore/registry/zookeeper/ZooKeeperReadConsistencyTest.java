package dev.reliablestore.registry.zookeeper;

import dev.reliablestore.registry.ReadBatch;
import dev.reliablestore.registry.ReadBatchResult;
import dev.reliablestore.registry.RegistryArgumentException;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.registry.WriteBatch;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Read batches: {@code readConsistency}, and a batch over values rewritten without pause.
 *
 * <p>{@code readConsistency}: with {@code linearizable} every read goes behind a barrier the leader
 * commits through the quorum. The barrier is seen as zxids used: each one is a transaction.
 *
 * <p>Under writers that never pause, a read batch is still the state of one commit sequence: it is
 * rolled forward with the change log instead of being repeated until a quiet gap that never comes.
 * Every answer is compared with what the writers committed at or before the batch's sequence.
 */
class ZooKeeperReadConsistencyTest {

    static {
        ZkTestSupport.init();
    }

    private static TestingServer server;
    private static CuratorFramework raw;

    @BeforeAll
    static void start() throws Exception {
        server = new TestingServer(true);
        raw = CuratorFrameworkFactory.newClient(server.getConnectString(), new RetryOneTime(100));
        raw.start();
        raw.blockUntilConnected();
    }

    @AfterAll
    static void stop() throws Exception {
        raw.close();
        server.close();
    }

    /** Transactions the ensemble committed while {@code reads} ran: the difference of two probes' czxids, minus the second probe. */
    private static long transactionsDuring(Runnable reads) throws Exception {
        String first = raw.create().withMode(CreateMode.EPHEMERAL_SEQUENTIAL).forPath("/probe-");
        reads.run();
        String second = raw.create().withMode(CreateMode.EPHEMERAL_SEQUENTIAL).forPath("/probe-");
        return raw.checkExists().forPath(second).getCzxid() - raw.checkExists().forPath(first).getCzxid() - 1;
    }

    @Test
    void linearizableReadsGoThroughTheQuorumAndSnapshotReadsDoNot() throws Exception {
        RegistryPath key = RegistryPath.of("k");
        for (String consistency : new String[] {"snapshot", "linearizable"}) {
            String chroot = ZkTestSupport.freshChroot("reads-" + consistency);
            try (ZooKeeperRegistry r = ZkTestSupport.open(server.getConnectString(), chroot, ZkTestSupport.options("readConsistency", consistency))) {
                r.commit(WriteBatch.builder().setValue(key, "v", RegistryValue.dword(7)).build());
                long txns = transactionsDuring(() -> {
                    for (int i = 0; i < 10; i++) {
                        assertThat(r.getValue(key, "v").orElseThrow().value().asDword()).isEqualTo(7);
                        assertThat(r.keyExists(key)).isTrue();
                        assertThat(r.values(key)).containsKey("v");
                    }
                });
                if (consistency.equals("linearizable")) {
                    assertThat(txns).as("one barrier per read").isGreaterThanOrEqualTo(30);
                } else {
                    assertThat(txns).as("plain reads commit nothing (background writes of the registry aside)").isLessThan(30);
                }
            }
        }
    }

    /** readBarrier() goes through the quorum (what makes another session's acknowledged batches visible), on a snapshot-read registry too. */
    @Test
    void aReadBarrierIsAQuorumTransaction() throws Exception {
        ZooKeeperRegistry closed;
        try (ZooKeeperRegistry r = ZkTestSupport.open(server.getConnectString(), ZkTestSupport.freshChroot("barrier"), ZkTestSupport.options())) {
            long txns = transactionsDuring(() -> {
                for (int i = 0; i < 10; i++) {
                    r.readBarrier();
                }
            });
            assertThat(txns).as("one quorum transaction per barrier").isGreaterThanOrEqualTo(10);
            closed = r;
        }
        assertThatThrownBy(closed::readBarrier).isInstanceOf(dev.reliablestore.registry.RegistryClosedException.class);
    }

    @Test
    void aBatchOfValuesIsOneRequestWhetherTheyExistOrNot() throws Exception {
        RegistryPath key = RegistryPath.of("entity");
        try (ZooKeeperRegistry r = ZkTestSupport.open(server.getConnectString(), ZkTestSupport.freshChroot("one-request"), ZkTestSupport.options())) {
            r.commit(WriteBatch.builder().setValue(key, "envelope", RegistryValue.binary(new byte[1024]))
                    .setValue(key, "version", RegistryValue.qword(1)).build());
            ReadBatch present = ReadBatch.of(new ReadBatch.ValueRead(key, "envelope"), new ReadBatch.ValueRead(key, "version"));
            ReadBatch absent = ReadBatch.of(new ReadBatch.ValueRead(key, "missing"), new ReadBatch.ValueRead(RegistryPath.of("nokey"), "v"));
            long before = ZkTestSupport.requestsReceived(server.getPort());
            for (int i = 0; i < 25; i++) {
                assertThat(r.read(present).value(1).orElseThrow().value().asQword()).isEqualTo(1);
                assertThat(r.read(absent).value(0)).isEmpty();
            }
            long requests = ZkTestSupport.requestsReceived(server.getPort()) - before;
            // 50 batches of two values: one request each, plus whatever the registry's background work
            // (membership, log collection) sends meanwhile; read one znode per request, they were 150
            assertThat(requests).as("requests for 50 read batches").isBetween(50L, 100L);

            List<ReadBatch.Read> five = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                five.add(new ReadBatch.ValueRead(key, i % 2 == 0 ? "envelope" : "version"));
            }
            before = ZkTestSupport.requestsReceived(server.getPort());
            for (int i = 0; i < 10; i++) {
                assertThat(r.read(ReadBatch.of(five)).value(4).orElseThrow().value().asBinary()).hasSize(1024);
            }
            // three multi reads per batch; a getData per znode was six (seq and five values)
            assertThat(ZkTestSupport.requestsReceived(server.getPort()) - before).as("two values per request").isBetween(30L, 45L);
        }
    }

    @Test
    void twoValuesAsLargeAsTheServersTakeAreReadInOneAnswer() throws Exception {
        // with ZooKeeper's default jute.maxbuffer (1,048,575) a value the registry writes is at most 513,521
        // bytes; written around it, two values of nearly 1 MB make one answer of nearly 2 MB
        String chroot = ZkTestSupport.freshChroot("large-answer");
        RegistryPath key = RegistryPath.of("large");
        try (ZooKeeperRegistry r = ZkTestSupport.open(server.getConnectString(), chroot,
                ZkTestSupport.options(ZooKeeperOptions.MAX_REQUEST_BYTES.name(), "1048575"))) {
            byte[] a = new byte[1_000_000];
            byte[] b = a.clone();
            java.util.Arrays.fill(a, (byte) 'a');
            java.util.Arrays.fill(b, (byte) 'b');
            raw.create().creatingParentsIfNeeded().forPath(chroot + "/data/large/=a", ZnodeLayout.encodeValue(RegistryValue.binary(a)));
            raw.create().forPath(chroot + "/data/large/=b", ZnodeLayout.encodeValue(RegistryValue.binary(b)));
            ReadBatchResult read = r.read(ReadBatch.of(new ReadBatch.ValueRead(key, "a"), new ReadBatch.ValueRead(key, "b")));
            assertThat(read.value(0).orElseThrow().value().asBinary()).isEqualTo(a);
            assertThat(read.value(1).orElseThrow().value().asBinary()).isEqualTo(b);
        }
    }

    @Test
    void anUnknownConsistencyIsRefusedNamingTheChoices() {
        assertThatThrownBy(() -> ZkTestSupport.open(server.getConnectString(), ZkTestSupport.freshChroot("bad"),
                ZkTestSupport.options("readConsistency", "strong")))
                .isInstanceOf(RegistryArgumentException.class)
                .hasMessage("option readConsistency of the zookeeper registry: \"strong\" is not one of [snapshot, linearizable]");
    }

    // ---- read batches under writers that never pause -------------------------------------------------

    private static final RegistryPath WIDE = RegistryPath.of("wide");
    private static final RegistryPath SINGLE = RegistryPath.of("single");
    private static final RegistryPath KIDS = RegistryPath.of("kids");
    private static final int VALUES = 20;

    /** Every batch writes k everywhere, and leaves exactly one child n(k mod 3) below kids. */
    private static WriteBatch write(long k) {
        WriteBatch.Builder b = WriteBatch.builder();
        for (int v = 0; v < VALUES; v++) {
            b.setValue(WIDE, "v" + v, RegistryValue.qword(k));
        }
        b.setValue(SINGLE, "x", RegistryValue.qword(k));
        b.deleteKey(KIDS.child("n" + ((k + 1) % 3))).deleteKey(KIDS.child("n" + ((k + 2) % 3)));
        b.setValue(KIDS.child("n" + (k % 3)), "k", RegistryValue.qword(k));
        return b.build();
    }

    @Test
    void batchesOfValuesUnderWritersThatNeverPauseShowOneSequenceExactly() throws Exception {
        try (ZooKeeperRegistry registry = ZkTestSupport.open(server.getConnectString(), ZkTestSupport.freshChroot("values-under-writers"), ZkTestSupport.options())) {
            ConcurrentSkipListMap<Long, Long> committed = new ConcurrentSkipListMap<>();
            committed.put(registry.commit(write(0)).sequence(), 0L);
            List<ReadBatch.Read> values = new ArrayList<>();
            for (int v = 0; v < VALUES; v++) {
                values.add(new ReadBatch.ValueRead(WIDE, "v" + v));
            }
            values.add(new ReadBatch.ValueRead(SINGLE, "x"));
            values.add(new ReadBatch.ValueRead(KIDS.child("n0"), "k"));
            ReadBatch batch = ReadBatch.of(values);
            List<ReadBatchResult> reads = new ArrayList<>();
            List<Throwable> failures = whileWriting(registry, committed, () -> {
                for (int round = 0; round < 200; round++) {
                    reads.add(registry.read(batch));
                }
            });
            List<String> problems = new ArrayList<>();
            for (ReadBatchResult r : reads) {
                Map.Entry<Long, Long> floor = committed.floorEntry(r.sequence());
                long k = floor.getValue();
                for (int v = 0; v <= VALUES; v++) {
                    VersionedValue read = r.value(v).orElseThrow();
                    if (read.value().asQword() != k || read.revision() != floor.getKey()) {
                        problems.add("value " + v + " at sequence " + r.sequence() + " expected " + k + "@" + floor.getKey()
                                + ", read " + read.value().asQword() + "@" + read.revision());
                    }
                }
                if (r.value(VALUES + 1).isPresent() != (k % 3 == 0)) {
                    problems.add("n0:k at sequence " + r.sequence() + " is " + r.value(VALUES + 1) + " for k " + k);
                }
            }
            assertThat(failures).isEmpty();
            assertThat(problems).isEmpty();
            assertThat(committed.size()).as("commits made while the batches were read").isGreaterThan(10);
        }
    }

    /** Runs {@code reads} while three writers commit {@link #write} without pause; what the writers threw. */
    private static List<Throwable> whileWriting(ZooKeeperRegistry registry, ConcurrentSkipListMap<Long, Long> committed, Runnable reads)
            throws InterruptedException {
        AtomicBoolean stop = new AtomicBoolean();
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        List<Thread> writers = new ArrayList<>();
        for (int w = 0; w < 3; w++) {
            long base = (w + 1) * 1_000_000L;
            Thread t = new Thread(() -> {
                try {
                    for (long i = 1; !stop.get(); i++) {
                        committed.put(registry.commit(write(base + i)).sequence(), base + i);
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            }, "writer-" + w);
            t.start();
            writers.add(t);
        }
        try {
            reads.run();
        } finally {
            stop.set(true);
            for (Thread t : writers) {
                t.join(30_000);
            }
        }
        return failures;
    }

    @Test
    void readBatchesUnderWritersThatNeverPauseShowOneSequenceExactly() throws Exception {
        try (ZooKeeperRegistry registry = ZkTestSupport.open(server.getConnectString(), ZkTestSupport.freshChroot("rollforward"), ZkTestSupport.options())) {
            ConcurrentSkipListMap<Long, Long> committed = new ConcurrentSkipListMap<>();
            committed.put(registry.commit(write(0)).sequence(), 0L);
            List<ReadBatchResult> reads = new ArrayList<>();
            List<Throwable> failures = whileWriting(registry, committed, () -> {
                for (int round = 0; round < 200; round++) {
                    reads.add(registry.read(ReadBatch.of(new ReadBatch.ValuesRead(WIDE), new ReadBatch.ValueRead(SINGLE, "x"),
                            new ReadBatch.SubkeysRead(KIDS), new ReadBatch.ValuesRead(KIDS.child("n0")))));
                }
            });
            // checked once every writer has recorded what it committed
            List<String> problems = new ArrayList<>();
            for (ReadBatchResult r : reads) {
                Map.Entry<Long, Long> floor = committed.floorEntry(r.sequence());
                if (floor == null) {
                    problems.add("sequence " + r.sequence() + " is before every commit");
                    continue;
                }
                long k = floor.getValue();
                Map<String, VersionedValue> wide = r.values(0).orElseThrow();
                assertThat(wide).hasSize(VALUES);
                for (VersionedValue v : wide.values()) {
                    if (v.value().asQword() != k || v.revision() != floor.getKey()) {
                        problems.add("at sequence " + r.sequence() + " expected " + k + "@" + floor.getKey() + ", read " + v.value().asQword() + "@" + v.revision());
                        break;
                    }
                }
                if (r.value(1).orElseThrow().value().asQword() != k) {
                    problems.add("single at sequence " + r.sequence() + " is " + r.value(1).orElseThrow().value().asQword() + ", expected " + k);
                }
                if (!r.subkeys(2).orElseThrow().equals(List.of("n" + (k % 3)))) {
                    problems.add("children at sequence " + r.sequence() + " are " + r.subkeys(2) + ", expected n" + (k % 3));
                }
                if (r.values(3).isPresent() != (k % 3 == 0)) {
                    problems.add("n0 at sequence " + r.sequence() + " is " + r.values(3) + " for k " + k);
                }
            }
            assertThat(failures).isEmpty();
            assertThat(problems).isEmpty();
            // how many of these were rolled forward depends on the machine (one or two in 200 here, none
            // in one CI run); the test below takes that path every time
        }
    }

    @Test
    void aReadThatACommitRacesInEveryAttemptIsRolledForwardToTheCommitsState() throws Exception {
        String chroot = ZkTestSupport.freshChroot("raced");
        try (ZooKeeperRegistry reader = ZkTestSupport.open(server.getConnectString(), chroot, ZkTestSupport.options());
             ZooKeeperRegistry writer = ZkTestSupport.open(server.getConnectString(), chroot, ZkTestSupport.options())) {
            writer.commit(write(0));
            java.util.concurrent.atomic.AtomicLong k = new java.util.concurrent.atomic.AtomicLong();
            // another client commits after the listings and before the values of every attempt: the
            // first attempt sees seq move and its listing changed, the second (with the log captured)
            // must roll its listing forward to the state the values were read at
            reader.betweenReadRounds = () -> writer.commit(write(k.incrementAndGet()));
            for (int round = 0; round < 5; round++) {
                long rolled = reader.readsRolledForward.get();
                ReadBatchResult r = reader.read(ReadBatch.of(new ReadBatch.ValuesRead(WIDE), new ReadBatch.SubkeysRead(KIDS),
                        new ReadBatch.ValuesRead(KIDS.child("n0"))));
                long last = k.get();
                assertThat(reader.readsRolledForward.get()).as("round " + round + " rolled forward").isEqualTo(rolled + 1);
                assertThat(r.values(0).orElseThrow().values()).allSatisfy(v -> assertThat(v.value().asQword()).isEqualTo(last));
                assertThat(r.subkeys(1).orElseThrow()).as("children after commit " + last).containsExactly("n" + (last % 3));
                assertThat(r.values(2).isPresent()).as("n0 after commit " + last).isEqualTo(last % 3 == 0);
                assertThat(r.sequence()).isEqualTo(writer.currentSequence());
            }
        }
    }
}
