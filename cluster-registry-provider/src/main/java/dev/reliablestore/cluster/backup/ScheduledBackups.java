package dev.reliablestore.cluster.backup;

import dev.reliablestore.cluster.RestoreMarker;
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
 * root is written to {@code <backupPath>/backup-<yyyyMMdd'T'HHmmssSSS'Z'>-<sequence>-<store>.rsbackup}
 * in the format of {@code reliablestore backup}, and the oldest of this store's backups beyond the
 * retention count are deleted. A failed run is logged and retried at the next interval; it never
 * affects the store. A run is skipped (logged) while the root holds the mark of an unfinished restore
 * ({@link RestoreMarker}): the store then holds part of a backup, which a factory opened before the
 * restore would otherwise back up as good and prune older backups for.
 *
 * <p>Several stores may share a {@code backupPath}: {@code <store>} (8 hex digits of a hash of the
 * registry URI and the root) keeps two of them from writing the same name in the same millisecond,
 * and a file counts as this store's only when its metadata names the same registry, root and store
 * ({@link RegistrySnapshot#storeId}), so one store's retention never deletes another's backups (nor a
 * file it cannot read), also when a new store was created at the same URI and root.
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
    private final Duration interval;
    /** The largest backup file a run writes (what a restore can load); lowered by tests. */
    long maxFileBytes = BackupFile.MAX_FILE_BYTES;
    /** How old a temporary file must be, at least, to count as left behind by a run killed while writing. */
    static final Duration LEFTOVER_AGE = Duration.ofHours(1);

    private ScheduledBackups(ClusterRegistry registry, RegistryPath root, String node, Path directory, Duration interval, int retention) {
        this.registry = registry;
        this.root = root;
        this.node = node;
        this.directory = directory;
        this.interval = interval;
        this.retention = retention;
        byte[] id = BackupFile.sha256().digest((registry.uri() + "\n" + root).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        this.tag = java.util.HexFormat.of().formatHex(id, 0, 4);
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "reliablestore-scheduled-backup");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Starts backing up every {@code interval}: the first one when an interval has passed since this
     * store's newest backup in {@code directory} (at once when it has none), so that a process
     * restarted more often than the interval still writes them.
     */
    public static ScheduledBackups start(ClusterRegistry registry, RegistryPath root, String node, Path directory,
                                         Duration interval, int retention) {
        ScheduledBackups b = new ScheduledBackups(registry, root, node, directory, interval, retention);
        // on the timer's thread: opening the store never waits for the backup folder (a slow share, many files)
        b.timer.execute(() -> {
            Duration first;
            try {
                first = b.firstDelay(java.time.Instant.now());
            } catch (Error e) {
                first = interval; // as a run does: the schedule never ends by itself
            }
            b.schedule(first);
        });
        return b;
    }

    /** As {@link #start}, the first run {@code firstDelay} from now (tests that run it themselves). */
    static ScheduledBackups startAfter(ClusterRegistry registry, RegistryPath root, String node, Path directory,
                                       Duration interval, int retention, Duration firstDelay) {
        ScheduledBackups b = new ScheduledBackups(registry, root, node, directory, interval, retention);
        b.schedule(firstDelay);
        return b;
    }

    private void schedule(Duration firstDelay) {
        timer.scheduleWithFixedDelay(this::runOnce, firstDelay.toNanos(), interval.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** How long after {@code now} the first run is due: an interval after this store's newest backup, at most one interval. */
    Duration firstDelay(java.time.Instant now) {
        java.time.Instant newest = null;
        if (!Files.isDirectory(directory)) {
            return Duration.ZERO; // created by the first run
        }
        try (Stream<Path> files = Files.list(directory)) {
            for (Path p : (Iterable<Path>) files.filter(p -> NAME.matcher(p.getFileName().toString()).matches() && mayBeOurs(p))
                    .sorted(java.util.Comparator.reverseOrder())::iterator) {
                java.time.Instant stamp = stamp(p);
                // a stamp more than an interval ahead is a clock that ran ahead, no reason to wait
                if (stamp != null && !stamp.isAfter(now.plus(interval)) && ours(p, null)) {
                    newest = stamp;
                    break;
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("scheduled backup of {}: could not list {} ({}); the first backup is one interval from now", root, directory, e.toString());
            return interval;
        }
        if (newest == null) {
            return Duration.ZERO;
        }
        Duration due = Duration.between(now, newest.plus(interval));
        return due.isNegative() ? Duration.ZERO : due.compareTo(interval) > 0 ? interval : due;
    }

    /** Whether a name may be this store's: its tag is this store's, or it has none (names before tags). */
    private boolean mayBeOurs(Path file) {
        java.util.regex.Matcher m = NAME.matcher(file.getFileName().toString());
        // a name before tags has one field fewer: its sequence, digits that may look like a tag, is no tag
        return m.matches() && (m.group(1) == null || m.group(1).equals("-" + tag));
    }

    /** The time in a backup's name; null when it cannot be read. */
    private static java.time.Instant stamp(Path file) {
        String name = file.getFileName().toString();
        try {
            return java.time.Instant.from(STAMP.parse(name.substring("backup-".length(), "backup-".length() + 19)));
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** One scheduled run; returns the file written, or null when this node is not primary or the run failed. */
    Path runOnce() {
        try {
            // the registry's own name for this process (the node name the provider reports may come from hooks)
            dev.reliablestore.registry.ClusterStatus status = registry.status();
            // Windows cluster node names are not case-sensitive, and the owner's comes back as the cluster spells it
            boolean clusapi = "clusapi".equals(status.backend());
            if (!status.primary().map(p -> clusapi ? p.equalsIgnoreCase(status.localNode()) : p.equals(status.localNode())).orElse(false)) {
                return null;
            }
            try {
                // first: a file a killed run left behind can be what keeps this run from fitting on the disk
                deleteLeftovers();
            } catch (IOException | RuntimeException e) {
                LOG.debug("scheduled backup of {}: could not look for files a killed run left in {} ({})", root, directory, e.toString());
            }
            RegistrySnapshot snapshot = RegistrySnapshot.take(registry, root);
            if (snapshot.isEmpty()) {
                return null;
            }
            java.util.Optional<RestoreMarker> unfinished = RestoreMarker.inSnapshot(snapshot.keys());
            if (unfinished.isEmpty()) {
                // a restore into a root that encloses this one deletes and rewrites this store too
                unfinished = dev.reliablestore.cluster.ClusterStoreAdmin.of(registry, root).unfinishedRestore();
            }
            if (unfinished.isPresent()) {
                // it holds part of a backup: a backup of it would be taken for a good one, and its retention would prune those
                LOG.warn("scheduled backup of {} in {} skipped: a restore into the store ({}) has not finished, so it holds part of"
                        + " a backup; backups resume once a restore completes (reliablestore restore --force)", root, registry.uri(),
                        unfinished.get().describe());
                return null;
            }
            Path file = directory.resolve("backup-" + STAMP.format(java.time.Instant.now()) + "-" + snapshot.sequence() + "-" + tag + ".rsbackup");
            BackupFile.write(file, snapshot, registry.uri(), "scheduled backup on node " + node, maxFileBytes);
            prune(file, snapshot.storeId().orElse(null));
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
    private void prune(Path written, String storeId) throws IOException {
        List<Path> older;
        java.time.Instant writtenAt = stamp(written);
        java.time.Instant aheadAfter = writtenAt == null ? java.time.Instant.MAX : writtenAt.plus(interval);
        try (Stream<Path> files = Files.list(directory)) {
            // a name stamped more than an interval later than the one just written comes from a clock that ran ahead: it
            // counts as the oldest, or it would outlive every fresh backup until real time caught up with it (a little
            // later is another node's backup of about the same time, whose clock is a little ahead: ordered as it is)
            older = files.filter(p -> NAME.matcher(p.getFileName().toString()).matches() && !p.equals(written) && mayBeOurs(p))
                    .filter(p -> ours(p, storeId))
                    .sorted(java.util.Comparator.<Path, Boolean>comparing(p -> {
                        java.time.Instant at = stamp(p);
                        return at == null || !at.isAfter(aheadAfter);
                    }).thenComparing(java.util.Comparator.naturalOrder())).toList();
        }
        for (int i = 0; i < older.size() - (retention - 1); i++) {
            Files.deleteIfExists(older.get(i));
        }
    }

    /**
     * Deletes this store's temporary files that a run killed while writing left behind (a crash
     * skips the cleanup), once they are older than an interval: a younger one may be another node's
     * write in progress.
     */
    private void deleteLeftovers() throws IOException {
        // an hour at least: on a shared folder the file's time is the file server's clock, and a large backup's last
        // writes and its fsync can leave it behind the writer's for a while
        Duration age = interval.compareTo(LEFTOVER_AGE) > 0 ? interval : LEFTOVER_AGE;
        long before = System.currentTimeMillis() - age.toMillis();
        List<Path> leftovers;
        try (Stream<Path> files = Files.list(directory)) {
            leftovers = files.filter(p -> {
                String name = p.getFileName().toString();
                return name.startsWith(".backup-") && name.endsWith(".tmp") && name.contains("-" + tag + ".rsbackup.");
            }).toList();
        }
        for (Path p : leftovers) {
            java.time.Instant named = stamp(p.resolveSibling(p.getFileName().toString().substring(1))); // ".backup-<stamp>-…"
            if (named == null || named.toEpochMilli() >= before) {
                continue; // its name says it was begun recently
            }
            try {
                if (Files.getLastModifiedTime(p).toMillis() < before) {
                    Files.deleteIfExists(p);
                }
            } catch (java.nio.file.NoSuchFileException gone) {
                // renamed or deleted meanwhile
            }
        }
    }

    /**
     * Whether a backup file was taken of this store (a file that cannot be read is left alone): of the same
     * registry URI and root, and, when both name one, of the same store ({@link RegistrySnapshot#storeId}):
     * a store created anew at that URI and root (a volume that was not mounted, another host with the same
     * local path) must not prune the backups of the one it replaced. {@code storeId} null: any store's.
     */
    private boolean ours(Path file, String storeId) {
        try {
            com.fasterxml.jackson.databind.JsonNode metadata = BackupFile.readMetadata(file);
            String theirs = metadata.path("storeId").asText(null);
            return metadata.path("source").asText().equals(registry.uri()) && metadata.path("root").asText().equals(root.toString())
                    && (storeId == null || theirs == null || theirs.equals(storeId));
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
