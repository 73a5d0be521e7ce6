package dev.reliablestore.registry.clusapi;

import dev.reliablestore.options.Option;
import dev.reliablestore.options.OptionTable;
import dev.reliablestore.options.OptionValues;
import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.RegistryArgumentException;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.WriteBatch;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The settings of a {@code clusapi://<cluster>[/<base key path>]} registry: the URI, and the options
 * of {@link #TABLE} (rendered in docs/windows.md and checked against it).
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
 * @param feedRetentionMs   how long a batch's history record is kept at least (unless a size or count bound drops it first)
 * @param feedHistoryBytes  the bytes of history records kept at most
 * @param feedHistoryBatches the history records kept at most
 */
record ClusapiOptions(Optional<String> clusterName, List<String> baseKey, String group, String localNode,
                      int failedCommandBase, int maxBatchCommands, long maxBatchBytes, int commitAttempts, long failoverTimeoutMs,
                      long feedRetentionMs, long feedHistoryBytes, long feedHistoryBatches) {

    static final List<String> DEFAULT_BASE_KEY = List.of("ReliableStore");
    static final String DEFAULT_GROUP = "Cluster Group";
    static final int DEFAULT_MAX_BATCH_COMMANDS = 4096;
    static final long MIN_BATCH_BYTES = RegistryValue.MAX_SIZE + 2L * (RegistryPath.MAX_PATH_LENGTH + 255) + WriteBatch.COMMAND_OVERHEAD;
    // every byte of a batch is written twice (the value and its history record, FeedHistory): 8 MiB of user
    // data keeps the native batch at the ~16 MiB this backend assumed before the history existed
    static final long DEFAULT_MAX_BATCH_BYTES = 8L * 1024 * 1024;
    static final long MAX_BATCH_BYTES_LIMIT = 256L * 1024 * 1024;
    static final int DEFAULT_COMMIT_ATTEMPTS = 1000;
    static final long DEFAULT_FAILOVER_TIMEOUT_MS = 30_000;
    static final Duration DEFAULT_FEED_RETENTION = Duration.ofHours(24);
    static final long DEFAULT_FEED_HISTORY_BYTES = 64L * 1024 * 1024;
    static final long DEFAULT_FEED_HISTORY_BATCHES = 100_000;

    static final Option<String> GROUP = Option.string("group", DEFAULT_GROUP, "`" + DEFAULT_GROUP + "`", "a cluster group name",
            ClusapiOptions::nonBlank, "its owner node is `status().primary()` (while Online/PartialOnline/Pending)");
    static final Option<String> LOCAL_NODE = Option.string("localNode", null, "`%COMPUTERNAME%` (else the host name)", "a node name",
            ClusapiOptions::nonBlank, "`status().localNode()`");
    static final Option<Long> FAILED_COMMAND_BASE = Option.integer("failedCommandBase", 0, 0, 1, "",
            "the number `ClusterRegCloseBatch` gives the first command (SDK docs: 0; MS-CMRP: 1) — see fact 2");
    static final Option<Long> MAX_BATCH_COMMANDS = Option.integer("maxBatchCommands", DEFAULT_MAX_BATCH_COMMANDS, 64, 100_000, "commands",
            "`limits().maxBatchCommands()`");
    static final Option<Long> MAX_BATCH_BYTES = Option.size("maxBatchBytes", DEFAULT_MAX_BATCH_BYTES, MIN_BATCH_BYTES, MAX_BATCH_BYTES_LIMIT,
            "`limits().maxBatchBytes()`, counted as `WriteBatch.encodedSize()`");
    static final Option<Long> COMMIT_ATTEMPTS = Option.integer("commitAttempts", DEFAULT_COMMIT_ATTEMPTS, 1, 1_000_000, "attempts",
            "how often a commit is re-planned when another writer moved the sequence first; then `RegistryUnavailableException`");
    static final Option<Duration> FAILOVER_TIMEOUT = Option.duration("failoverTimeout", Duration.ofMillis(DEFAULT_FAILOVER_TIMEOUT_MS),
            Duration.ofMillis(100), Duration.ofHours(1), "how long an administrator's group move or drain may run before it is reported"
                    + " as not done (`NodeOperationRefusedException`, reason `TIMED_OUT`)").withBareNumbersAs("ms");

    static final Option<Duration> FEED_RETENTION = Option.duration("feedRetention", DEFAULT_FEED_RETENTION, Duration.ofMinutes(1),
            Duration.ofDays(30), "how long a batch stays replayable by `watch(subtree, afterSequence, listener)` at least (by the committing"
                    + " process's clock), unless `feedHistorySize` or `feedHistoryBatches` drops it first");
    static final Option<Long> FEED_HISTORY_SIZE = Option.size("feedHistorySize", DEFAULT_FEED_HISTORY_BYTES, 1024L * 1024, 1024L * 1024 * 1024,
            "the most bytes of change history kept in the cluster database, counted as records plus 20-byte headers"
                    + " (the newest batch's record is always kept)");
    static final Option<Long> FEED_HISTORY_BATCHES = Option.integer("feedHistoryBatches", DEFAULT_FEED_HISTORY_BATCHES, 1, 10_000_000, "batches",
            "the most batches of change history kept (the newest is always kept)");

    static final OptionTable TABLE = OptionTable.of("the clusapi registry", GROUP, LOCAL_NODE, FAILED_COMMAND_BASE, MAX_BATCH_COMMANDS,
            MAX_BATCH_BYTES, COMMIT_ATTEMPTS, FAILOVER_TIMEOUT, FEED_RETENTION, FEED_HISTORY_SIZE, FEED_HISTORY_BATCHES);

    private static String nonBlank(String s) {
        if (s.isBlank()) {
            throw new IllegalArgumentException("is blank");
        }
        return s;
    }

    static ClusapiOptions parse(URI uri, Map<String, String> options) {
        if (!"clusapi".equals(uri.getScheme())) {
            throw new RegistryArgumentException("not a clusapi URI: " + ClusterRegistries.redact(uri.toString()));
        }
        if (uri.getRawQuery() != null) {
            throw new RegistryArgumentException("clusapi URI \"" + ClusterRegistries.redact(uri.toString())
                    + "\" has a query; pass options in the options map");
        }
        OptionValues v = TABLE.read(options, RegistryArgumentException::new);
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
        String localNode = v.isSet(LOCAL_NODE) ? v.get(LOCAL_NODE) : defaultLocalNode();
        return new ClusapiOptions(cluster, List.copyOf(base), v.get(GROUP), localNode, v.get(FAILED_COMMAND_BASE).intValue(),
                v.get(MAX_BATCH_COMMANDS).intValue(), v.get(MAX_BATCH_BYTES), v.get(COMMIT_ATTEMPTS).intValue(),
                v.get(FAILOVER_TIMEOUT).toMillis(), v.get(FEED_RETENTION).toMillis(), v.get(FEED_HISTORY_SIZE), v.get(FEED_HISTORY_BATCHES));
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

    /** The history bounds commits prune to. */
    FeedHistory.Bounds feedBounds() {
        return new FeedHistory.Bounds(feedRetentionMs, feedHistoryBytes, feedHistoryBatches);
    }

    /** The bounds as the options name them, for messages. */
    String feedBoundsText() {
        return "option feedRetention " + dev.reliablestore.options.Durations.format(Duration.ofMillis(feedRetentionMs)) + ", feedHistorySize "
                + dev.reliablestore.options.Sizes.format(feedHistoryBytes) + ", feedHistoryBatches " + feedHistoryBatches + " of " + uri();
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
