package dev.reliablestore.registry.embedded;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.CopyOption;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Opens the files the registry writes (log segments, snapshots, the feed's floor), renames them,
 * makes its directory durable and says how much room the files have. Every write, fsync and rename
 * the registry makes goes through here, recovery's cut of a torn tail included, so tests can put a
 * disk that fails like a full or broken one in front of real files, the directory's fsync and the
 * renames included.
 */
@FunctionalInterface
interface ChannelFactory {

    ChannelFactory DEFAULT = FileChannel::open;

    FileChannel open(Path file, OpenOption... options) throws IOException;

    /** Whether directories are flushed: not on Windows, which cannot open one (NTFS journals creations and renames itself). */
    boolean DIRECTORY_FSYNC = flushesDirectories(System.getProperty("os.name", ""));

    static boolean flushesDirectories(String osName) {
        return !osName.toLowerCase(java.util.Locale.ROOT).startsWith("windows");
    }

    /** Makes file creations, renames and deletions in {@code dir} durable. */
    default void syncDirectory(Path dir) throws IOException {
        if (!DIRECTORY_FSYNC) {
            return;
        }
        try (FileChannel d = open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    /** Renames {@code from} to {@code to}; durable only after {@link #syncDirectory}. */
    default void move(Path from, Path to, CopyOption... options) throws IOException {
        Files.move(from, to, options);
    }

    /** The bytes that files in {@code dir} may still take: what decides whether a spare log segment may be written. */
    default long usableSpace(Path dir) throws IOException {
        return Files.getFileStore(dir).getUsableSpace();
    }
}
