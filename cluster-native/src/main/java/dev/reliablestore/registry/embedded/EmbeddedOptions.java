package dev.reliablestore.registry.embedded;

import dev.reliablestore.registry.RegistryArgumentException;
import dev.reliablestore.registry.RegistryPath;

import java.net.InetAddress;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The options of the embedded backend (documented in docs/embedded-backend.md). Unknown keys and
 * out-of-range values are refused.
 *
 * @param asyncFlushIntervalMillis how often the background flusher makes ASYNC batches durable
 * @param snapshotThresholdBytes   log bytes after which a snapshot is taken and the log rotated
 * @param nodeName                 the name of the one node in {@link dev.reliablestore.registry.ClusterStatus}
 * @param groupCommit              who writes and forces the log for SYNC commits
 * @param truncateDamagedTail      whether opening drops a damaged end of the newest log segment (with a
 *                                 warning naming what it drops) instead of refusing to open
 */
record EmbeddedOptions(int asyncFlushIntervalMillis, long snapshotThresholdBytes, String nodeName, GroupCommit groupCommit,
                       boolean truncateDamagedTail) {

    /** Who writes and forces the log for SYNC commits. */
    enum GroupCommit {
        /** The first waiting committer leads each write+force; the others wait for it (default: no thread hand-off). */
        LEADER,
        /** One dedicated writer thread does every write+force; committers hand off and wait. */
        WRITER
    }

    static final String ASYNC_FLUSH_INTERVAL_MS = "asyncFlushIntervalMs";
    static final String SNAPSHOT_THRESHOLD_BYTES = "snapshotThresholdBytes";
    static final String NODE_NAME = "nodeName";
    static final String GROUP_COMMIT = "groupCommit";
    static final String TRUNCATE_DAMAGED_TAIL = "truncateDamagedTail";

    static final int DEFAULT_ASYNC_FLUSH_INTERVAL_MS = 10;
    static final int MIN_ASYNC_FLUSH_INTERVAL_MS = 1;
    static final int MAX_ASYNC_FLUSH_INTERVAL_MS = 10_000;
    static final long DEFAULT_SNAPSHOT_THRESHOLD_BYTES = 64L * 1024 * 1024;
    static final long MIN_SNAPSHOT_THRESHOLD_BYTES = 4096;
    static final long MAX_SNAPSHOT_THRESHOLD_BYTES = 1L << 40;

    private static final Set<String> KNOWN = Set.of(ASYNC_FLUSH_INTERVAL_MS, SNAPSHOT_THRESHOLD_BYTES, NODE_NAME, GROUP_COMMIT,
            TRUNCATE_DAMAGED_TAIL);

    static EmbeddedOptions parse(Map<String, String> options) {
        Set<String> unknown = new TreeSet<>(options.keySet());
        unknown.removeAll(KNOWN);
        if (!unknown.isEmpty()) {
            throw new RegistryArgumentException("unknown option(s) " + unknown + " for the embedded registry; known options: "
                    + new TreeSet<>(KNOWN));
        }
        int interval = (int) number(options, ASYNC_FLUSH_INTERVAL_MS, DEFAULT_ASYNC_FLUSH_INTERVAL_MS,
                MIN_ASYNC_FLUSH_INTERVAL_MS, MAX_ASYNC_FLUSH_INTERVAL_MS, "milliseconds");
        long threshold = number(options, SNAPSHOT_THRESHOLD_BYTES, DEFAULT_SNAPSHOT_THRESHOLD_BYTES,
                MIN_SNAPSHOT_THRESHOLD_BYTES, MAX_SNAPSHOT_THRESHOLD_BYTES, "bytes");
        String node = options.get(NODE_NAME);
        if (node == null) {
            node = DefaultNodeName.VALUE;
        } else {
            RegistryPath.checkName(node, "option " + NODE_NAME);
        }
        String mode = options.getOrDefault(GROUP_COMMIT, "writer").trim();
        GroupCommit groupCommit;
        switch (mode) {
            case "leader" -> groupCommit = GroupCommit.LEADER;
            case "writer" -> groupCommit = GroupCommit.WRITER;
            default -> throw new RegistryArgumentException("option " + GROUP_COMMIT + " = \"" + mode + "\" is not one of leader, writer");
        }
        String truncate = options.getOrDefault(TRUNCATE_DAMAGED_TAIL, "false").trim();
        if (!truncate.equalsIgnoreCase("true") && !truncate.equalsIgnoreCase("false")) {
            throw new RegistryArgumentException("option " + TRUNCATE_DAMAGED_TAIL + " = \"" + truncate + "\" is not true or false");
        }
        return new EmbeddedOptions(interval, threshold, node, groupCommit, Boolean.parseBoolean(truncate));
    }

    private static long number(Map<String, String> options, String key, long dflt, long min, long max, String unit) {
        String raw = options.get(key);
        if (raw == null) {
            return dflt;
        }
        long v;
        try {
            v = Long.parseLong(raw.trim());
        } catch (NumberFormatException e) {
            throw new RegistryArgumentException("option " + key + " = \"" + raw + "\" is not a whole number of " + unit);
        }
        if (v < min || v > max) {
            throw new RegistryArgumentException("option " + key + " = " + v + " " + unit + " is out of range " + min + ".." + max);
        }
        return v;
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
