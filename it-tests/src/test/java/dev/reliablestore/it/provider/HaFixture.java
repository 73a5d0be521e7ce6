package dev.reliablestore.it.provider;

import dev.reliablestore.cluster.ClusterPersistenceConfiguration;

import java.time.Duration;

/** Provider configurations over a ZooKeeper ensemble for the provider-level HA tests. */
final class HaFixture {

    static final String GROUP = "HA-RG";
    static final String KEY_PATH = "Software/ReliableStore/HA";

    private HaFixture() {
    }

    /**
     * A cluster-registry configuration on {@code zookeeper://<connectString><chroot>}, member
     * {@code nodeName}. The provider's {@code failoverTimeout} and the registry's own (which bounds one
     * registry call: reconnect, election, outcome verification) are set to the same value, so one
     * figure bounds an operation; retries start after 100 ms. The chroot is unprotected ({@code acl=open}):
     * these tests are about failover, and the observers they open beside the stores share it.
     */
    static ClusterPersistenceConfiguration.Builder config(String connectString, String chroot, String nodeName,
                                                          Duration failoverTimeout, Duration sessionTimeout) {
        return ClusterPersistenceConfiguration.builder()
                .clusterName("zookeeper://" + connectString + chroot)
                .resourceGroupName(GROUP)
                .registryKeyPath(KEY_PATH)
                .failoverTimeout(failoverTimeout)
                .maxRetries(50)
                .retryDelay(Duration.ofMillis(100))
                .registryOption("failoverTimeout", String.valueOf(failoverTimeout.toMillis()))
                .registryOption("sessionTimeout", String.valueOf(sessionTimeout.toMillis()))
                .registryOption("connectionTimeout", "3000")
                .registryOption("nodeName", nodeName)
                .registryOption("acl", "open");
    }
}
