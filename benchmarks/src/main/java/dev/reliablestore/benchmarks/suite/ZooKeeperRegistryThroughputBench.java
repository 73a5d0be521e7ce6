package dev.reliablestore.benchmarks.suite;

import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.CommitResult;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.WriteBatch;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Registry-level write throughput on ZooKeeper (1 or 3 servers in process) beside raw Curator on an
 * ensemble of the same shape: a commit of one 1 KB SetValue over 1,000 keys from 16 threads against
 * 16 threads of blocking {@code setData}, and 1,000 pipelined {@code commitAsync} against 1,000
 * pipelined background {@code setData} (what AsyncCuratorFramework wraps). Scores are operations
 * per second.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class ZooKeeperRegistryThroughputBench {

    static final int KEYS = 1_000;
    static final int PIPELINED = 1_000;
    static final byte[] VALUE = new byte[1024];

    /** The ensemble, a registry on it with 1,000 values of 1 KB, and a raw client with 1,000 znodes. */
    @State(Scope.Benchmark)
    public static class Target {
        /** Servers in the ensemble: 1 or 3. */
        @Param({"1", "3"})
        public int nodes;

        ZooKeeperEnsemble ensemble;
        ClusterRegistry registry;
        CuratorFramework raw;
        WriteBatch[] batches;
        String[] paths;

        @Setup(Level.Trial)
        public void start() throws Exception {
            ensemble = ZooKeeperEnsemble.start(nodes);
            registry = ClusterRegistries.open(ensemble.registryUri("registry-bench"));
            raw = CuratorFrameworkFactory.newClient(ensemble.connectString(), new RetryOneTime(100));
            raw.start();
            raw.blockUntilConnected();
            batches = new WriteBatch[KEYS];
            paths = new String[KEYS];
            for (int i = 0; i < KEYS; i++) {
                batches[i] = WriteBatch.builder().setValue(RegistryPath.of("k", Integer.toString(i)), "v", RegistryValue.binary(VALUE)).build();
                registry.commit(batches[i]);
                paths[i] = "/raw/k" + i;
                raw.create().creatingParentsIfNeeded().forPath(paths[i], VALUE);
            }
        }

        @TearDown(Level.Trial)
        public void stop() throws Exception {
            raw.close();
            registry.close();
            ensemble.close();
        }
    }

    @Benchmark
    @Threads(16)
    public CommitResult registryCommit16(Target t) {
        return t.registry.commit(t.batches[ThreadLocalRandom.current().nextInt(KEYS)]);
    }

    @Benchmark
    @Threads(16)
    public Stat rawSetData16(Target t) throws Exception {
        return t.raw.setData().forPath(t.paths[ThreadLocalRandom.current().nextInt(KEYS)], VALUE);
    }

    @Benchmark
    @OperationsPerInvocation(PIPELINED)
    public Object registryCommitAsync1000(Target t) {
        CompletableFuture<?>[] all = new CompletableFuture<?>[PIPELINED];
        for (int i = 0; i < PIPELINED; i++) {
            all[i] = t.registry.commitAsync(t.batches[i]);
        }
        return CompletableFuture.allOf(all).join();
    }

    @Benchmark
    @OperationsPerInvocation(PIPELINED)
    public Object rawAsyncSetData1000(Target t) {
        return pipelinedSetData(t.raw, t.paths, i -> VALUE);
    }

    /**
     * Raw Curator's best: {@code setData} of the first {@value #PIPELINED} paths issued at once in the
     * background (what AsyncCuratorFramework wraps), awaited together.
     */
    static Object pipelinedSetData(CuratorFramework raw, String[] paths, java.util.function.IntFunction<byte[]> value) {
        CompletableFuture<?>[] all = new CompletableFuture<?>[PIPELINED];
        try {
            for (int i = 0; i < PIPELINED; i++) {
                CompletableFuture<Object> f = new CompletableFuture<>();
                all[i] = f;
                raw.setData().inBackground((client, event) -> {
                    if (event.getResultCode() == KeeperException.Code.OK.intValue()) {
                        f.complete(event.getStat());
                    } else {
                        f.completeExceptionally(KeeperException.create(KeeperException.Code.get(event.getResultCode()), event.getPath()));
                    }
                }).forPath(paths[i], value.apply(i));
            }
        } catch (Exception e) {
            throw new IllegalStateException("could not send setData", e);
        }
        return CompletableFuture.allOf(all).join();
    }
}
