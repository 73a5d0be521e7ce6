package dev.reliablestore.registry.zookeeper;

import dev.reliablestore.registry.ClusterRegistry;

import java.net.URI;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Shared set-up of the ZooKeeper tests. Servers and clients of these tests run in one JVM and read
 * {@code jute.maxbuffer} once, when ZooKeeper's classes load: raise it before any of them does, so
 * a 1 MiB value (which travels twice in its multi) fits, as docs/zookeeper-backend.md prescribes.
 */
final class ZkTestSupport {

    static final int MAX_BUFFER = 4 * 1024 * 1024;

    static {
        System.setProperty("jute.maxbuffer", String.valueOf(MAX_BUFFER));
        System.setProperty("zookeeper.admin.enableServer", "false");
    }

    private static final AtomicInteger CHROOTS = new AtomicInteger();

    private ZkTestSupport() {
    }

    /** Call from a test class's static initialiser, before any ZooKeeper class is touched. */
    static void init() {
        // the static block has run
    }

    static String freshChroot(String prefix) {
        return "/" + prefix + "-" + CHROOTS.incrementAndGet();
    }

    /**
     * Options for a test registry: 4 MiB requests and, unless digest credentials (or acl) are given,
     * acl=open: these tests are about the registry's behaviour, ZooKeeperAclTest and the digest tests
     * about its protection.
     */
    static Map<String, String> options(String... keyValues) {
        Map<String, String> m = new HashMap<>();
        m.put(ZooKeeperOptions.MAX_REQUEST_BYTES.name(), String.valueOf(MAX_BUFFER));
        for (int i = 0; i < keyValues.length; i += 2) {
            m.put(keyValues[i], keyValues[i + 1]);
        }
        if (!m.containsKey(ZooKeeperOptions.DIGEST.name())) {
            m.putIfAbsent(ZooKeeperOptions.ACL.name(), ZooKeeperOptions.ACL_OPEN);
        }
        return m;
    }

    static ZooKeeperRegistry open(String connectString, String chroot, Map<String, String> options) {
        return (ZooKeeperRegistry) new ZooKeeperRegistryBackend().open(URI.create("zookeeper://" + connectString + chroot), options);
    }

    static ClusterRegistry open(String connectString, String chroot, String... keyValues) {
        return open(connectString, chroot, options(keyValues));
    }
}
