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
        // the in-process servers answer srvr, whose "Received" counts the requests a test's calls made
        System.setProperty("zookeeper.4lw.commands.whitelist", "srvr");
    }

    private static final AtomicInteger CHROOTS = new AtomicInteger();

    private ZkTestSupport() {
    }

    /** Call from a test class's static initialiser, before any ZooKeeper class is touched. */
    static void init() {
        // the static block has run
    }

    /** Requests the server at {@code port} has received since it started, from its srvr answer. */
    static long requestsReceived(int port) throws java.io.IOException {
        String srvr;
        try {
            srvr = org.apache.zookeeper.client.FourLetterWordMain.send4LetterWord("127.0.0.1", port, "srvr", false, 5_000);
        } catch (org.apache.zookeeper.common.X509Exception.SSLContextException e) {
            throw new java.io.IOException(e);
        }
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("Received: (\\d+)").matcher(srvr);
        if (!m.find()) {
            throw new IllegalStateException("no request count in the server's srvr answer: " + srvr);
        }
        return Long.parseLong(m.group(1));
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
