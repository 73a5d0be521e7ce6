package dev.reliablestore.registry.clusapi;

import dev.reliablestore.registry.RegistryArgumentException;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.WriteBatch;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The settings of a {@code clusapi://<cluster>[/<base key path>]} registry. See docs/windows.md for
 * every key with its default and limits.
 *
 * @param clusterName       the cluster to open; empty = the local cluster ({@code OpenCluster(NULL)}, an LPC handle)
 * @param baseKey           segments of the key below the cluster root that holds the registry
 * @param group             the cluster group whose owner node is reported as primary
 * @param localNode         the name this process is known by
 * @param failedCommandBase the number {@code ClusterRegCloseBatch} gives the first command (0 or 1)
 * @param maxBatchCommands  commands per write batch
 * @param maxBatchBytes     {@link WriteBatch#encodedSize()} per write batch
 * @param commitAttempts    how often a commit is retried when another writer committed first
 * @param failoverTimeoutMs how long an administrator's group move or drain may run before it is reported as not done
 */
record ClusapiOptions(Optional<String> clusterName, List<String> baseKey, String group, String localNode,
                      int failedCommandBase, int maxBatchCommands, long maxBatchBytes, int commitAttempts, long failoverTimeoutMs) {

    static final List<String> DEFAULT_BASE_KEY = List.of("ReliableStore");
    static final String DEFAULT_GROUP = "Cluster Group";
    static final int DEFAULT_MAX_BATCH_COMMANDS = 4096;
    static final long MIN_BATCH_BYTES = RegistryValue.MAX_SIZE + 2L * (RegistryPath.MAX_PATH_LENGTH + 255) + WriteBatch.COMMAND_OVERHEAD;
    static final long DEFAULT_MAX_BATCH_BYTES = 16L * 1024 * 1024;
    static final long MAX_BATCH_BYTES_LIMIT = 256L * 1024 * 1024;
    static final int DEFAULT_COMMIT_ATTEMPTS = 1000;
    static final long DEFAULT_FAILOVER_TIMEOUT_MS = 30_000;

    private static final Set<String> KEYS = Set.of("group", "localNode", "failedCommandBase", "maxBatchCommands",
            "maxBatchBytes", "commitAttempts", "failoverTimeout");

    static ClusapiOptions parse(URI uri, Map<String, String> options) {
        if (!"clusapi".equals(uri.getScheme())) {
            throw new RegistryArgumentException("not a clusapi URI: " + uri);
        }
        Set<String> unknown = new TreeSet<>(options.keySet());
        unknown.removeAll(KEYS);
        if (!unknown.isEmpty()) {
            throw new RegistryArgumentException("unknown clusapi option(s) " + unknown + "; known: " + new TreeSet<>(KEYS));
        }
        String authority = uri.getRawAuthority();
        Optional<String> cluster = authority == null || authority.isEmpty() ? Optional.empty() : Optional.of(uri.getAuthority());
        if (cluster.isPresent() && (cluster.get().contains("@") || cluster.get().contains(":"))) {
            throw new RegistryArgumentException("clusapi URI \"" + uri + "\": the authority must be a cluster name, got \""
                    + cluster.get() + "\"");
        }
        List<String> base = new ArrayList<>();
        String path = uri.getPath() == null ? "" : uri.getPath();
        for (String seg : path.split("/")) {
            if (!seg.isEmpty()) {
                base.add(RegistryPath.checkName(seg, "base key segment in " + uri));
            }
        }
        if (base.isEmpty()) {
            base = DEFAULT_BASE_KEY;
        }
        String group = options.getOrDefault("group", DEFAULT_GROUP);
        if (group.isBlank()) {
            throw new RegistryArgumentException("clusapi option group is blank; give a cluster group name (default \"" + DEFAULT_GROUP + "\")");
        }
        String localNode = options.containsKey("localNode") ? options.get("localNode") : defaultLocalNode();
        if (localNode.isBlank()) {
            throw new RegistryArgumentException("clusapi option localNode is blank");
        }
        int base0 = (int) number(options, "failedCommandBase", 0, 0, 1);
        int maxCommands = (int) number(options, "maxBatchCommands", DEFAULT_MAX_BATCH_COMMANDS, 64, 100_000);
        long maxBytes = number(options, "maxBatchBytes", DEFAULT_MAX_BATCH_BYTES, MIN_BATCH_BYTES, MAX_BATCH_BYTES_LIMIT);
        int attempts = (int) number(options, "commitAttempts", DEFAULT_COMMIT_ATTEMPTS, 1, 1_000_000);
        long failoverTimeout = number(options, "failoverTimeout", DEFAULT_FAILOVER_TIMEOUT_MS, 100, 3_600_000);
        return new ClusapiOptions(cluster, List.copyOf(base), group, localNode, base0, maxCommands, maxBytes, attempts, failoverTimeout);
    }

    private static long number(Map<String, String> options, String key, long dflt, long min, long max) {
        String v = options.get(key);
        if (v == null) {
            return dflt;
        }
        long n;
        try {
            n = Long.parseLong(v.strip());
        } catch (NumberFormatException e) {
            throw new RegistryArgumentException("clusapi option " + key + "=\"" + v + "\" is not an integer; allowed " + min + ".." + max);
        }
        if (n < min || n > max) {
            throw new RegistryArgumentException("clusapi option " + key + "=" + n + " is out of range; allowed " + min + ".." + max);
        }
        return n;
    }

    private static String defaultLocalNode() {
        String env = System.getenv("COMPUTERNAME");
        if (env != null && !env.isBlank()) {
            return env;
        }
        try {
            String host = InetAddress.getLocalHost().getHostName();
            int dot = host.indexOf('.');
            return dot > 0 ? host.substring(0, dot) : host;
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }

    /** The base key as a cluster-registry path ({@code \}-separated). */
    String baseKeyPath() {
        return String.join("\\", baseKey);
    }

    /** The URI without credentials: {@code clusapi://<cluster>/<base>}. */
    String uri() {
        return "clusapi://" + clusterName.orElse("") + "/" + String.join("/", baseKey);
    }
}
