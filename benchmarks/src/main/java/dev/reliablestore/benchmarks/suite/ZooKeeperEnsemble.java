package dev.reliablestore.benchmarks.suite;

import org.apache.curator.test.TestingCluster;
import org.apache.curator.test.TestingServer;

import java.io.IOException;

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
                TestingCluster c = new TestingCluster(3);
                c.start();
                return new ZooKeeperEnsemble(null, c);
            }
        } catch (Exception e) {
            throw new IllegalStateException("cannot start a " + nodes + "-server ZooKeeper ensemble", e);
        }
        throw new IllegalArgumentException("nodes = " + nodes + "; an ensemble here has 1 or 3 servers");
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
        }
    }
}
