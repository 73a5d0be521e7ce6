package dev.reliablestore.registry.zookeeper;

import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A curator-test {@link TestingCluster} whose servers' client, election and quorum ports are all
 * different. {@code new TestingCluster(n)} picks each port on its own (open a socket on port 0, close
 * it, use its number), so two of them can be the same number: a server then fails to bind its
 * election port and ZooKeeper ends the whole test JVM ({@code System.exit(14)}, seen in CI).
 */
final class DistinctPortsCluster {

    private DistinctPortsCluster() {
    }

    static TestingCluster of(int servers) {
        int[] ports;
        try {
            ports = ZooKeeperServerProcess.freePorts(3 * servers);
        } catch (IOException e) {
            throw new UncheckedIOException("no free local ports for a " + servers + "-server test ensemble", e);
        }
        List<InstanceSpec> specs = new ArrayList<>();
        for (int s = 0; s < servers; s++) {
            // as InstanceSpec.newInstanceSpec(), with the ports chosen here: a temporary data directory
            // deleted on close, the next server id, default tick time and connection limit
            specs.add(new InstanceSpec(null, ports[3 * s], ports[3 * s + 1], ports[3 * s + 2], true, -1, -1, -1));
        }
        return new TestingCluster(specs);
    }
}
