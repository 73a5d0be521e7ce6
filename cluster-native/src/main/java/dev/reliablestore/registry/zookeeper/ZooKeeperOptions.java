package dev.reliablestore.registry.zookeeper;

import dev.reliablestore.registry.RegistryArgumentException;

import java.net.InetAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The parsed {@code zookeeper://host:port[,host:port…]/<chroot>[?key=value&…]} URI and options.
 * Options come from the URI query and from the options map (the map wins). Every key, its
 * default, unit and limits are documented in docs/zookeeper-backend.md; unknown keys are refused.
 */
record ZooKeeperOptions(
        String connectString,
        String chroot,
        int sessionTimeoutMs,
        int connectionTimeoutMs,
        long failoverTimeoutMs,
        String nodeName,
        List<String> nodeAffinity,
        int minNodes,
        String digestCredentials,
        int maxRequestBytes,
        long feedRetentionMs,
        int feedCapacity,
        boolean tls,
        String tlsKeyStore,
        String tlsKeyStorePassword,
        String tlsTrustStore,
        String tlsTrustStorePassword,
        String redactedUri,
        String acl,
        boolean linearizableReads,
        boolean primaryCandidate) {

    static final String SESSION_TIMEOUT = "sessionTimeout";
    static final String CONNECTION_TIMEOUT = "connectionTimeout";
    static final String FAILOVER_TIMEOUT = "failoverTimeout";
    static final String NODE_NAME = "nodeName";
    static final String NODE_AFFINITY = "nodeAffinity";
    static final String MIN_NODES = "minNodes";
    static final String DIGEST = "digest";
    static final String MAX_REQUEST_BYTES = "maxRequestBytes";
    static final String FEED_RETENTION = "feedRetention";
    static final String FEED_CAPACITY = "feedCapacity";
    static final String TLS = "tls";
    static final String TLS_KEY_STORE = "tlsKeyStore";
    static final String TLS_KEY_STORE_PASSWORD = "tlsKeyStorePassword";
    static final String TLS_TRUST_STORE = "tlsTrustStore";
    static final String TLS_TRUST_STORE_PASSWORD = "tlsTrustStorePassword";
    static final String ACL = "acl";
    static final String READ_CONSISTENCY = "readConsistency";
    static final String PRIMARY_CANDIDATE = "primaryCandidate";

    /** {@link #ACL} values: the digest ACL of the {@code digest} credentials, or no protection at all (explicit opt-in). */
    static final String ACL_DIGEST = "digest";
    static final String ACL_OPEN = "open";

    /** Keys whose values are secrets: never echoed in messages or in {@link #redactedUri()}. */
    private static final Set<String> SECRET_KEYS = Set.of(DIGEST, TLS_KEY_STORE_PASSWORD, TLS_TRUST_STORE_PASSWORD);

    static final Set<String> KEYS = new TreeSet<>(List.of(SESSION_TIMEOUT, CONNECTION_TIMEOUT, FAILOVER_TIMEOUT, NODE_NAME,
            NODE_AFFINITY, PRIMARY_CANDIDATE, MIN_NODES, DIGEST, MAX_REQUEST_BYTES, FEED_RETENTION, FEED_CAPACITY, TLS, TLS_KEY_STORE,
            TLS_KEY_STORE_PASSWORD, TLS_TRUST_STORE, TLS_TRUST_STORE_PASSWORD, ACL, READ_CONSISTENCY));

    /** ZooKeeper's own default for jute.maxbuffer (the largest request a server accepts). */
    static final int ZOOKEEPER_DEFAULT_MAX_BUFFER = 0xfffff;

    private static final AtomicInteger INSTANCES = new AtomicInteger();

    @Override
    public String toString() {
        return "ZooKeeperOptions[" + redactedUri + "]";
    }

    static ZooKeeperOptions parse(URI uri, Map<String, String> options) {
        if (!"zookeeper".equals(uri.getScheme())) {
            throw new RegistryArgumentException("not a zookeeper URI: scheme \"" + uri.getScheme() + "\"");
        }
        String authority = uri.getRawAuthority();
        if (authority == null || authority.isBlank()) {
            throw new RegistryArgumentException("zookeeper URI " + redact(uri) + " names no server; expected zookeeper://host:port[,host:port...]/<chroot>");
        }
        if (authority.contains("@")) {
            throw new RegistryArgumentException("zookeeper URI " + redact(uri) + " carries user info; pass credentials with the \"digest\" option instead");
        }
        for (String hostPort : authority.split(",", -1)) {
            int colon = hostPort.lastIndexOf(':');
            if (hostPort.isBlank() || colon <= 0 || colon == hostPort.length() - 1) {
                throw new RegistryArgumentException("zookeeper server \"" + hostPort + "\" in " + redact(uri) + " is not host:port");
            }
            parseInt("port of " + hostPort, hostPort.substring(colon + 1), 1, 65535);
        }
        String chroot = uri.getPath();
        while (chroot != null && chroot.endsWith("/")) {
            chroot = chroot.substring(0, chroot.length() - 1);
        }
        if (chroot == null || chroot.isEmpty()) {
            throw new RegistryArgumentException("zookeeper URI " + redact(uri) + " has no chroot; the registry needs its own subtree, e.g. zookeeper://"
                    + authority + "/reliablestore");
        }
        for (String segment : chroot.substring(1).split("/", -1)) {
            if (segment.isEmpty() || segment.equals(".") || segment.equals("..") || segment.equals("zookeeper") && chroot.indexOf('/', 1) < 0) {
                throw new RegistryArgumentException("chroot \"" + chroot + "\" is not a valid ZooKeeper path for a registry (empty, '.', '..' or /zookeeper)");
            }
            for (int i = 0; i < segment.length(); i++) {
                char c = segment.charAt(i);
                if (Character.isISOControl(c) || c >= '\ud800' && c <= '\uf8ff' || c >= '\ufff0') {
                    throw new RegistryArgumentException("chroot \"" + chroot + "\" contains a character ZooKeeper does not allow at index " + i);
                }
            }
        }

        Map<String, String> all = new LinkedHashMap<>();
        String query = uri.getRawQuery();
        if (query != null && !query.isEmpty()) {
            for (String pair : query.split("&")) {
                if (pair.isEmpty()) {
                    continue;
                }
                int eq = pair.indexOf('=');
                if (eq <= 0) {
                    throw new RegistryArgumentException("zookeeper URI option \"" + (eq == 0 ? pair : pair.replaceAll("(?i)^(digest|.*password).*", "$1"))
                            + "\" is not key=value");
                }
                all.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8), URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        all.putAll(options);
        Set<String> unknown = new TreeSet<>(all.keySet());
        unknown.removeAll(KEYS);
        if (!unknown.isEmpty()) {
            throw new RegistryArgumentException("unknown zookeeper registry option(s) " + unknown + "; known options: " + KEYS);
        }

        int sessionTimeout = parseInt(SESSION_TIMEOUT, all.getOrDefault(SESSION_TIMEOUT, "10000"), 1000, 600_000);
        int connectionTimeout = parseInt(CONNECTION_TIMEOUT, all.getOrDefault(CONNECTION_TIMEOUT, "5000"), 100, 600_000);
        long failover = parseInt(FAILOVER_TIMEOUT, all.getOrDefault(FAILOVER_TIMEOUT, "30000"), 100, 3_600_000);
        String nodeName = all.get(NODE_NAME);
        if (nodeName == null) {
            nodeName = defaultNodeName();
        }
        nodeName = checkNodeName(NODE_NAME, nodeName);
        List<String> affinity = new ArrayList<>();
        String affinityText = all.getOrDefault(NODE_AFFINITY, "");
        if (!affinityText.isBlank()) {
            for (String n : affinityText.split(",")) {
                String name = checkNodeName(NODE_AFFINITY, n.trim());
                if (affinity.contains(name)) {
                    throw new RegistryArgumentException("option nodeAffinity names \"" + name + "\" twice");
                }
                affinity.add(name);
            }
        }
        int minNodes = parseInt(MIN_NODES, all.getOrDefault(MIN_NODES, "1"), 1, 1000);
        String digest = all.get(DIGEST);
        if (digest != null) {
            int colon = digest.indexOf(':');
            if (colon <= 0 || colon == digest.length() - 1) {
                throw new RegistryArgumentException("option digest must be user:password with both parts non-empty (value not shown)");
            }
        }
        int maxRequest = parseInt(MAX_REQUEST_BYTES, all.getOrDefault(MAX_REQUEST_BYTES, String.valueOf(ZOOKEEPER_DEFAULT_MAX_BUFFER)),
                256 * 1024, 512 * 1024 * 1024);
        long retention = parseInt(FEED_RETENTION, all.getOrDefault(FEED_RETENTION, "120000"), 10_000, 86_400_000);
        if (retention < 2 * failover) {
            throw new RegistryArgumentException("option feedRetention (" + retention + " ms) must be at least twice failoverTimeout ("
                    + failover + " ms): a commit whose outcome is being verified after a failover needs its change-log entry");
        }
        int feedCapacity = parseInt(FEED_CAPACITY, all.getOrDefault(FEED_CAPACITY, "10000"), 1, 1_000_000);
        boolean tls = parseBoolean(TLS, all.getOrDefault(TLS, "false"));
        String keyStore = all.get(TLS_KEY_STORE);
        String trustStore = all.get(TLS_TRUST_STORE);
        if (!tls && (keyStore != null || trustStore != null || all.containsKey(TLS_KEY_STORE_PASSWORD) || all.containsKey(TLS_TRUST_STORE_PASSWORD))) {
            throw new RegistryArgumentException("TLS key/trust store options are set but option tls is not true; set tls=true or remove them");
        }
        for (String[] store : new String[][] {{TLS_KEY_STORE, keyStore}, {TLS_TRUST_STORE, trustStore}}) {
            if (store[1] != null && !Files.isReadable(Path.of(store[1]))) {
                throw new RegistryArgumentException("option " + store[0] + " names \"" + store[1] + "\", which is not a readable file");
            }
        }
        String acl = parseAcl(all.get(ACL), digest != null, redact(uri));
        String consistency = all.getOrDefault(READ_CONSISTENCY, "snapshot");
        if (!consistency.equals("snapshot") && !consistency.equals("linearizable")) {
            throw new RegistryArgumentException("option readConsistency = " + consistency + " is invalid: must be snapshot or linearizable");
        }
        return new ZooKeeperOptions(authority, chroot, sessionTimeout, connectionTimeout, failover, nodeName, List.copyOf(affinity),
                minNodes, digest, maxRequest, retention, feedCapacity, tls, keyStore, all.get(TLS_KEY_STORE_PASSWORD), trustStore,
                all.get(TLS_TRUST_STORE_PASSWORD), redact(uri), acl, consistency.equals("linearizable"),
                parseBoolean(PRIMARY_CANDIDATE, all.getOrDefault(PRIMARY_CANDIDATE, "true")));
    }

    /**
     * An unprotected chroot is an explicit choice: without credentials, opening needs {@code acl=open}.
     * The value names the ACL scheme, so the schemes of a later Kerberos/TLS issue (sasl, x509) join here.
     */
    private static String parseAcl(String value, boolean digest, String uri) {
        if (value == null) {
            if (!digest) {
                throw new RegistryArgumentException("zookeeper registry " + uri + " has no credentials: give the option digest=user:password"
                        + " (the chroot and every znode below it then carry a digest ACL only these credentials pass), or acl=open for an"
                        + " insecure store that every client of the ZooKeeper ensemble can read and change");
            }
            return ACL_DIGEST;
        }
        return switch (value.trim()) {
            case ACL_DIGEST -> {
                if (!digest) {
                    throw new RegistryArgumentException("option acl=digest needs the digest option (digest=user:password)");
                }
                yield ACL_DIGEST;
            }
            case ACL_OPEN -> {
                if (digest) {
                    throw new RegistryArgumentException("options acl=open and digest contradict each other: acl=open leaves the chroot open to"
                            + " every client, digest protects it; remove one");
                }
                yield ACL_OPEN;
            }
            default -> throw new RegistryArgumentException("option acl must be digest or open, got \"" + value + "\"");
        };
    }

    /** The URI without secret option values. */
    static String redact(URI uri) {
        String s = uri.getScheme() + "://" + uri.getRawAuthority() + (uri.getRawPath() == null ? "" : uri.getRawPath());
        String query = uri.getRawQuery();
        if (query == null || query.isEmpty()) {
            return s;
        }
        List<String> kept = new ArrayList<>();
        for (String pair : query.split("&")) {
            int eq = pair.indexOf('=');
            String key = eq < 0 ? pair : URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8);
            kept.add(SECRET_KEYS.contains(key) || key.toLowerCase().contains("password") ? key + "=***" : pair);
        }
        return s + "?" + String.join("&", kept);
    }

    private static String defaultNodeName() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            host = "localhost";
        }
        return host + "-" + ProcessHandle.current().pid() + "-" + INSTANCES.incrementAndGet();
    }

    private static String checkNodeName(String option, String name) {
        if (name.isEmpty() || name.length() > 255) {
            throw new RegistryArgumentException("option " + option + ": node name \"" + name + "\" must have 1..255 characters, has " + name.length());
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (Character.isISOControl(c) || c == '/' || c == ',') {
                throw new RegistryArgumentException("option " + option + ": node name \"" + name.replaceAll("\\p{Cntrl}", "?")
                        + "\" contains a forbidden character at index " + i + " (no '/', ',' or control characters)");
            }
        }
        return name;
    }

    private static int parseInt(String key, String text, int min, int max) {
        long v;
        try {
            v = Long.parseLong(text.trim());
        } catch (NumberFormatException e) {
            throw new RegistryArgumentException("option " + key + " must be an integer in " + min + ".." + max + ", got \"" + text + "\"");
        }
        if (v < min || v > max) {
            throw new RegistryArgumentException("option " + key + " is " + v + "; it must be in " + min + ".." + max);
        }
        return (int) v;
    }

    private static boolean parseBoolean(String key, String text) {
        return switch (text.trim().toLowerCase()) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new RegistryArgumentException("option " + key + " must be true or false, got \"" + text + "\"");
        };
    }
}
