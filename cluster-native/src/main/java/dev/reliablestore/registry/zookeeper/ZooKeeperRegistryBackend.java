package dev.reliablestore.registry.zookeeper;

import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.spi.ClusterRegistryBackend;

import java.net.URI;
import java.util.Map;

/**
 * The {@code zookeeper://host:port[,host:port…]/<chroot>} backend: a registry replicated by an
 * Apache ZooKeeper ensemble, reached through Apache Curator. Options are listed in
 * docs/zookeeper-backend.md; unknown ones are refused.
 */
public final class ZooKeeperRegistryBackend implements ClusterRegistryBackend {

    @Override
    public String scheme() {
        return "zookeeper";
    }

    @Override
    public ClusterRegistry open(URI uri, Map<String, String> options) {
        return ZooKeeperRegistry.open(ZooKeeperOptions.parse(uri, options));
    }

    @Override
    public java.util.Set<String> optionNames() {
        return ZooKeeperOptions.TABLE.names();
    }
}
