package dev.reliablestore.cluster.backup;

import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.RegistryPath;

import java.nio.file.Path;
import java.time.Duration;

/** Scheduled backups run by hand, for tests outside this package. */
public final class ScheduledBackupsAccess implements AutoCloseable {

    private final ScheduledBackups backups;

    private ScheduledBackupsAccess(ScheduledBackups backups) {
        this.backups = backups;
    }

    /** Backups of {@code root} into {@code directory}, every hour, 2 kept; no run until {@link #runOnce}. */
    public static ScheduledBackupsAccess start(ClusterRegistry registry, RegistryPath root, Path directory) {
        return new ScheduledBackupsAccess(ScheduledBackups.startAfter(registry, root, registry.status().localNode(), directory,
                Duration.ofHours(1), 2, Duration.ofHours(1)));
    }

    /** One run now: the file written, or null when the run was skipped or failed. */
    public Path runOnce() {
        return backups.runOnce();
    }

    @Override
    public void close() {
        backups.close();
    }
}
