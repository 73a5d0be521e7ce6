package dev.reliablestore.registry.embedded;

import dev.reliablestore.registry.RegistryArgumentException;
import dev.reliablestore.registry.RegistryPath;

import dev.reliablestore.options.Option;
import dev.reliablestore.options.OptionTable;
import dev.reliablestore.options.OptionValues;

import java.net.InetAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The options of the embedded backend, as {@link #TABLE} (rendered in docs/embedded-backend.md and
 * checked against it). Unknown keys and out-of-range values are refused.
 *
 * @param asyncFlushInterval  how often the background flusher makes ASYNC batches durable
 * @param snapshotThreshold   log bytes after which a snapshot is taken and the log rotated
 * @param nodeName            the name of the one node in {@link dev.reliablestore.registry.ClusterStatus}
 * @param groupCommit         who writes and forces the log for SYNC commits
 * @param truncateDamagedTail whether opening drops a damaged end of the newest log segment (with a
 *                            warning naming what it drops) instead of refusing to open
 * @param feedRetention       how long log segments a snapshot made unnecessary are kept for replaying watches
 */
record EmbeddedOptions(Duration asyncFlushInterval, long snapshotThreshold, String nodeName, GroupCommit groupCommit,
                       boolean truncateDamagedTail, Duration feedRetention) {

    /** Who writes and forces the log for SYNC commits. */
    enum GroupCommit {
        /** A committer that finds a flush running waits for it, then the first of them leads the next (no extra thread). */
        LEADER,
        /** A committer that finds a flush running hands off to one dedicated writer thread, which writes the group (default). */
        WRITER
    }

    static final Option<Duration> ASYNC_FLUSH_INTERVAL = Option.duration("asyncFlushInterval", Duration.ofMillis(10), Duration.ofMillis(1),
            Duration.ofSeconds(10), "how often the background flusher makes ASYNC batches durable; bounds the ASYNC loss window (below)")
            .withMillisecondsAlias("asyncFlushIntervalMs");
    static final Option<Long> SNAPSHOT_THRESHOLD = Option.size("snapshotThreshold", 64L << 20, 4096, 1L << 40,
            "when the current log segment reaches it, the log is rotated and a snapshot written in the background; bounds the log replayed on open")
            .withAlias("snapshotThresholdBytes", raw -> raw);
    static final Option<String> NODE_NAME = Option.string("nodeName", null,
            "`$HOSTNAME`, else `%COMPUTERNAME%`, else the host name from `InetAddress`, else `localhost`",
            "a registry name (1..255 chars, no `/`, `\\`, control chars)", name -> {
                try {
                    return RegistryPath.checkName(name, "node name");
                } catch (RegistryArgumentException e) {
                    throw new IllegalArgumentException(e.getMessage());
                }
            }, "the name of the one node in `status()`");
    static final Option<Boolean> TRUNCATE_DAMAGED_TAIL = Option.bool("truncateDamagedTail", false,
            "what opening does when the newest log segment is **damaged** (not torn, see [Failure model](#failure-model)) at its end,"
                    + " or at a record that valid records follow: `false` refuses to open (`RegistryCorruptedException`, files untouched);"
                    + " `true` truncates the segment at the first bad record, with a WARN naming the file, offset, bytes and sequences dropped."
                    + " Every batch in those bytes is lost, acknowledged or not, readable records after the bad one included: set it for one"
                    + " open, after copying the directory and deciding they may go. Torn ends are truncated without it; damage in an older"
                    + " segment is refused even with it");
    static final Option<GroupCommit> GROUP_COMMIT = Option.choice("groupCommit", choices(), GroupCommit.WRITER,
            "who writes and forces the log for SYNC commits that find a flush running. In both modes a lone committer (no flush"
                    + " running and, with `writer`, no other committer waiting) writes and forces on its own thread, with no hand-off;"
                    + " the others wait for that flush, then: `writer` (default) hands them to one dedicated writer thread, which writes"
                    + " the group that formed and starts the next force as soon as one ends, and each waiting committer is woken only by"
                    + " the flush that covers its batch; `leader`: the first of them leads the next flush (no extra thread). An"
                    + " interrupted committer (`Future.cancel(true)`, `shutdownNow`) is safe in both: the log reopens its segment and"
                    + " redoes the flush when an interrupt closes its `FileChannel`");

    static final Option<Duration> FEED_RETENTION = Option.duration("feedRetention", Duration.ofHours(1), Duration.ZERO, Duration.ofDays(30),
            "how long the history for replaying watches (`watch(subtree, afterSequence, listener)`) is kept: a log segment that a"
                    + " snapshot made unnecessary for recovery is deleted only once its last record is older than this (the segment's"
                    + " modification time), when a snapshot is taken or on open. History reaches back at least this far; the disk it"
                    + " takes is at most the log written in this time plus about three segments (`snapshotThreshold` each: two, and the spare being prepared). `0ms`: only"
                    + " what recovery needs (the segments since the newest snapshot). See [Replaying watches](#replaying-watches)");

    static final OptionTable TABLE = OptionTable.of("the embedded registry", ASYNC_FLUSH_INTERVAL, SNAPSHOT_THRESHOLD, NODE_NAME,
            TRUNCATE_DAMAGED_TAIL, GROUP_COMMIT, FEED_RETENTION);

    private static Map<String, GroupCommit> choices() {
        Map<String, GroupCommit> m = new LinkedHashMap<>();
        m.put("writer", GroupCommit.WRITER);
        m.put("leader", GroupCommit.LEADER);
        return m;
    }

    static EmbeddedOptions parse(Map<String, String> options) {
        OptionValues v = TABLE.read(options, RegistryArgumentException::new);
        String node = v.isSet(NODE_NAME) ? v.get(NODE_NAME) : DefaultNodeName.VALUE;
        return new EmbeddedOptions(v.get(ASYNC_FLUSH_INTERVAL), v.get(SNAPSHOT_THRESHOLD), node, v.get(GROUP_COMMIT), v.get(TRUNCATE_DAMAGED_TAIL),
                v.get(FEED_RETENTION));
    }

    /** The host name, looked up once per process (a DNS lookup can be slow). */
    private static final class DefaultNodeName {
        static final String VALUE = lookup();

        private static String lookup() {
            String env = System.getenv("HOSTNAME");
            if (env == null || env.isBlank()) {
                env = System.getenv("COMPUTERNAME");
            }
            String name = env;
            if (name == null || name.isBlank()) {
                try {
                    name = InetAddress.getLocalHost().getHostName();
                } catch (Exception e) {
                    name = "localhost";
                }
            }
            name = name.strip();
            try {
                return RegistryPath.checkName(name, "host name");
            } catch (RegistryArgumentException e) {
                return "localhost";
            }
        }
    }
}
