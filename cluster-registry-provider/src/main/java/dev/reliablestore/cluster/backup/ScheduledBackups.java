package dev.reliablestore.cluster.backup;

import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.RegistryPath;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The provider's scheduled backups ({@code backupEnabled}, {@code backupInterval},
 * {@code backupRetention}, {@code backupPath}): every interval, on the node that is currently
 * primary (so a cluster writes one backup per interval, not one per node), a snapshot of the storage
 * root is written to {@code <backupPath>/backup-<yyyyMMdd'T'HHmmss.SSS'Z'>-<sequence>-<store>.rsbackup}
 * in the format of {@code reliablestore backup}, and the oldest of this store's backups beyond the
 * retention count are deleted. A failed run is logged and retried at the next interval; it never
 * affects the store.
 *
 * <p>Several stores may share a {@code backupPath}: {@code <store>} (8 hex digits of a hash of the
 * registry URI and the root) keeps two of them from writing the same name in the same millisecond,
 * and a file counts as this store's only when its metadata names the same registry and root, so one
 * store's retention never deletes another's backups (nor a file it cannot read).
 */
public final class ScheduledBackups implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ScheduledBackups.class);
    /** Names this scheduler writes; before the store tag was added they ended at the sequence. */
    static final Pattern NAME = Pattern.compile("backup-\\d{8}T\\d{9}Z-\\d+(-[0-9a-f]{8})?\\.rsbackup");
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmssSSS'Z'").withZone(ZoneOffset.UTC);

    private final ClusterRegistry registry;
    private final RegistryPath root;
    private final String node;
    private final Path directory;
    private final int retention;
    private final ScheduledExecutorService timer;
    private final String tag;

    private ScheduledBackups(ClusterRegistry registry, RegistryPath root, String node, Path directory, int retention) {
        this.registry = registry;
        this.root = root;
        this.node = node;
        this.directory = directory;
        this.retention = retention;
        byte[] id = BackupFile.sha256().digest((registry.uri() + "\n" + root).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        this.tag = java.util.HexFormat.of().formatHex(id, 0, 4);
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "reliablestore-scheduled-backup");
            t.setDaemon(true);
            return t;
        });
    }

    /** Starts backing up every {@code interval}, the first one interval from now. */
    public static ScheduledBackups start(ClusterRegistry registry, RegistryPath root, String node, Path directory,
                                         Duration interval, int retention) {
        ScheduledBackups b = new ScheduledBackups(registry, root, node, directory, retention);
        long nanos = interval.toNanos();
        b.timer.scheduleWithFixedDelay(b::runOnce, nanos, nanos, TimeUnit.NANOSECONDS);
        return b;
    }

    /** One scheduled run; returns the file written, or null when this node is not primary or the run failed. */
    Path runOnce() {
        try {
            // the registry's own name for this process (the node name the provider reports may come from hooks)
            dev.reliablestore.registry.ClusterStatus status = registry.status();
            if (!status.primary().map(status.localNode()::equals).orElse(false)) {
                return null;
            }
            RegistrySnapshot snapshot = RegistrySnapshot.take(registry, root);
            if (snapshot.isEmpty()) {
                return null;
            }
            Path file = directory.resolve("backup-" + STAMP.format(java.time.Instant.now()) + "-" + snapshot.sequence() + "-" + tag + ".rsbackup");
            BackupFile.write(file, snapshot, registry.uri(), "scheduled backup on node " + node);
            prune(file);
            return file;
        } catch (IOException | RuntimeException e) {
            LOG.warn("scheduled backup of {} in {} failed; retrying at the next interval: {}", root, registry.uri(), e.toString());
            return null;
        } catch (Error e) {
            // e.g. OutOfMemoryError while the run held the whole store: escaping, it would end the schedule for good, silently
            LOG.error("scheduled backup of {} in {} failed; retrying at the next interval: {}", root, registry.uri(), e.toString());
            return null;
        }
    }

    /**
     * Deletes the oldest of this store's backups beyond the retention count, never {@code written}:
     * names sort by the wall clock, and after the clock was set back the backup just written would
     * sort first.
     */
    private void prune(Path written) throws IOException {
        List<Path> older;
        try (Stream<Path> files = Files.list(directory)) {
            older = files.filter(p -> NAME.matcher(p.getFileName().toString()).matches() && !p.equals(written)).filter(this::ours)
                    .sorted().toList();
        }
        for (int i = 0; i < older.size() - (retention - 1); i++) {
            Files.deleteIfExists(older.get(i));
        }
    }

    /** Whether a backup file was taken of this store (a file that cannot be read is left alone). */
    private boolean ours(Path file) {
        try {
            com.fasterxml.jackson.databind.JsonNode metadata = BackupFile.readMetadata(file);
            return metadata.path("source").asText().equals(registry.uri()) && metadata.path("root").asText().equals(root.toString());
        } catch (BackupFormatException e) {
            LOG.debug("scheduled backup of {}: not counting {} ({})", root, file, e.getMessage());
            return false;
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
        try {
            timer.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
