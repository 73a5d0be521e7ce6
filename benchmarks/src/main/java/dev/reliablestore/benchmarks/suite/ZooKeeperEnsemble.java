package dev.reliablestore.benchmarks.suite;

import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;
import org.apache.curator.test.TestingServer;

import java.io.IOException;
import java.io.Reader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;

/**
 * An in-process ZooKeeper ensemble (curator-test) of 1 or 3 servers on free loopback ports, with
 * its data in temporary directories that are removed on close.
 */
public final class ZooKeeperEnsemble implements AutoCloseable {

    private final TestingServer single;
    private final TestingCluster cluster;

    private ZooKeeperEnsemble(TestingServer single, TestingCluster cluster) {
        this.single = single;
        this.cluster = cluster;
    }

    /** Starts {@code nodes} servers (1 or 3) and returns once they are started. */
    public static ZooKeeperEnsemble start(int nodes) {
        try {
            if (nodes == 1) {
                return new ZooKeeperEnsemble(new TestingServer(true), null);
            }
            if (nodes == 3) {
                TestingCluster c = new TestingCluster(distinctPortSpecs(3));
                c.start();
                return new ZooKeeperEnsemble(null, c);
            }
        } catch (Exception e) {
            throw new IllegalStateException("cannot start a " + nodes + "-server ZooKeeper ensemble", e);
        }
        throw new IllegalArgumentException("nodes = " + nodes + "; an ensemble here has 1 or 3 servers");
    }

    /**
     * Specs for {@code servers} servers whose client, election and quorum ports all differ.
     * {@code new TestingCluster(n)} picks each port on its own (a socket on port 0, closed at once),
     * so it can hand one number out twice; a server then cannot bind its election port and ZooKeeper
     * ends the benchmark's JVM. Here every socket stays open until all ports are chosen.
     */
    private static List<InstanceSpec> distinctPortSpecs(int servers) throws IOException {
        List<ServerSocket> held = new ArrayList<>();
        try {
            for (int i = 0; i < 3 * servers; i++) {
                held.add(new ServerSocket(0, 1, InetAddress.getLoopbackAddress()));
            }
            List<InstanceSpec> specs = new ArrayList<>();
            for (int s = 0; s < servers; s++) {
                // as InstanceSpec.newInstanceSpec(): a temporary data directory deleted on close, the
                // next server id, default tick time and connection limit
                specs.add(new InstanceSpec(null, held.get(3 * s).getLocalPort(), held.get(3 * s + 1).getLocalPort(),
                        held.get(3 * s + 2).getLocalPort(), true, -1, -1, -1));
            }
            return specs;
        } finally {
            for (ServerSocket socket : held) {
                socket.close();
            }
        }
    }

    /** {@code host:port[,host:port…]}. */
    public String connectString() {
        return single != null ? single.getConnectString() : cluster.getConnectString();
    }

    /** The cluster-native URI of this ensemble under {@code chroot}, unprotected (acl=open) like the raw baseline's znodes. */
    public String registryUri(String chroot) {
        return "zookeeper://" + connectString() + "/" + chroot + "?acl=open";
    }

    @Override
    public void close() throws IOException {
        if (single != null) {
            single.close();
        } else {
            cluster.close();
            deleteGeneratedConfigs(cluster.getInstances());
        }
    }

    /**
     * curator-test starts each server of a cluster from a properties file that ZooKeeper's embedded
     * server writes to java.io.tmpdir and never deletes: one per server and trial piled up in /tmp.
     * Ours are those whose dataDir is one of our servers' data directories.
     */
    private static void deleteGeneratedConfigs(Collection<InstanceSpec> servers) throws IOException {
        Set<String> dataDirs = new HashSet<>();
        servers.forEach(s -> dataDirs.add(s.getDataDirectory().getAbsolutePath()));
        try (DirectoryStream<Path> files = Files.newDirectoryStream(Path.of(System.getProperty("java.io.tmpdir")),
                "zookeeper.configuration*.properties")) {
            for (Path file : files) {
                Properties config = new Properties();
                try (Reader in = Files.newBufferedReader(file)) {
                    config.load(in);
                } catch (IOException unreadable) {
                    continue; // not ours to judge
                }
                if (dataDirs.contains(config.getProperty("dataDir"))) {
                    Files.deleteIfExists(file);
                }
            }
        }
    }
}
