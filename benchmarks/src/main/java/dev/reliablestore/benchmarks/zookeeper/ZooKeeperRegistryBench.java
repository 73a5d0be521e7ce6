package dev.reliablestore.benchmarks.zookeeper;

import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.CommitResult;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.registry.WriteBatch;
import dev.reliablestore.registry.zookeeper.ZooKeeperRegistryBackend;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.zookeeper.data.Stat;
import org.apache.zookeeper.server.embedded.ExitHandler;
import org.apache.zookeeper.server.embedded.ZooKeeperServerEmbedded;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The ZooKeeper registry beside raw Curator on the same one-server ensemble, in one run: a 1 KB
 * value read ({@code getValue} vs {@code getData}) and a SYNC write ({@code commit} vs
 * {@code setData}). The server runs in process (ZooKeeperServerEmbedded) with fsync on.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class ZooKeeperRegistryBench {

    private static final RegistryPath KEY = RegistryPath.of("bench", "entity");
    private static final String RAW = "/raw-bench";

    private Path dir;
    private ZooKeeperServerEmbedded server;
    private ClusterRegistry registry;
    private CuratorFramework curator;
    private byte[] payload;
    private RegistryValue value;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        dir = Files.createTempDirectory("zk-bench");
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Properties p = new Properties();
        p.put("clientPort", String.valueOf(port));
        p.put("clientPortAddress", "127.0.0.1");
        p.put("tickTime", "2000");
        p.put("admin.enableServer", "false");
        server = ZooKeeperServerEmbedded.builder().baseDir(dir).configuration(p).exitHandler(ExitHandler.LOG_ONLY).build();
        server.start(60_000);
        String connect = "127.0.0.1:" + port;
        registry = new ZooKeeperRegistryBackend().open(URI.create("zookeeper://" + connect + "/bench"), Map.of("nodeName", "bench", "acl", "open")); // like the raw Curator baseline's znodes
        curator = CuratorFrameworkFactory.newClient(connect, new RetryOneTime(100));
        curator.start();
        curator.blockUntilConnected();
        payload = new byte[1024];
        ThreadLocalRandom.current().nextBytes(payload);
        value = RegistryValue.binary(payload);
        registry.commit(WriteBatch.builder().setValue(KEY, "v", value).build());
        curator.create().forPath(RAW, payload);
        registry.getValue(KEY, "v"); // the registry now knows the value exists: commits take the one-round-trip path
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        curator.close();
        registry.close();
        server.close();
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }

    @Benchmark
    public VersionedValue registryGetValue() {
        return registry.getValue(KEY, "v").orElseThrow();
    }

    @Benchmark
    public byte[] curatorGetData() throws Exception {
        return curator.getData().forPath(RAW);
    }

    @Benchmark
    public CommitResult registryCommitSync() {
        return registry.commit(WriteBatch.builder().setValue(KEY, "v", value).build());
    }

    @Benchmark
    public Stat curatorSetData() throws Exception {
        return curator.setData().forPath(RAW, payload);
    }
}
