package dev.reliablestore.spi;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Locale;

/**
 * The few file operations durability rests on, for providers and coordinators that keep files: a
 * file or directory survives a power loss only once its entry in its parent directory was flushed
 * too, and a rename only once its directory was.
 */
public final class DurableFiles {

    /** Windows cannot open a directory to flush it; NTFS journals the rename itself. */
    private static final boolean DIRECTORY_FSYNC = !System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("windows");

    private DurableFiles() {
    }

    /** Creates {@code file} (which must not exist) with the bytes and flushes it to the disk. */
    public static void writeNew(Path file, byte[] bytes) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            ch.force(true);
        }
    }

    /** Renames atomically, replacing the target: readers see the old file or the new one, never a mix. */
    public static void rename(Path from, Path to) throws IOException {
        Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Flushes cut short by the caller's interrupt that are tried again before the interrupt is let through. */
    private static final int INTERRUPTED_FLUSHES = 3;

    /**
     * Flushes a directory's entries (created, renamed, deleted names) to the disk. The flush completes
     * even if the calling thread is interrupted (the interrupt stays set for the caller): it usually
     * follows a rename that already took effect, and a caller could not tell a flush its own
     * interrupt cut short from a failing disk.
     */
    public static void syncDirectory(Path dir) throws IOException {
        if (!DIRECTORY_FSYNC) {
            return;
        }
        boolean interrupted = false;
        try {
            for (int attempt = 1; ; attempt++) {
                try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
                    ch.force(true);
                    return;
                } catch (ClosedByInterruptException cut) {
                    // the interrupt closed the channel: a flush is idempotent, so flush again with it held back
                    interrupted = true;
                    if (attempt == INTERRUPTED_FLUSHES) {
                        throw cut;
                    }
                    Thread.interrupted();
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Creates {@code dir} and its missing parents, each flushed into its parent, and flushes
     * {@code dir}'s own entry into its parent even when it existed: a process that crashed between
     * creating it and that flush left an entry a power loss can still take, files fsynced in it
     * included.
     */
    public static Path createDirectories(Path dir) throws IOException {
        Path absolute = dir.toAbsolutePath().normalize();
        Deque<Path> missing = new ArrayDeque<>();
        for (Path p = absolute; p != null && !Files.isDirectory(p); p = p.getParent()) {
            missing.push(p);
        }
        while (!missing.isEmpty()) {
            Path p = missing.pop();
            try {
                Files.createDirectory(p);
            } catch (FileAlreadyExistsException raced) {
                if (!Files.isDirectory(p)) {
                    throw raced;
                }
            }
            if (p.getParent() != null && !p.equals(absolute)) {
                syncDirectory(p.getParent());
            }
        }
        if (absolute.getParent() != null) {
            syncDirectory(absolute.getParent());
        }
        return dir;
    }

    /** Writes a file atomically and durably: temporary file beside it, fsync, rename, directory fsync. */
    public static void replaceAtomically(Path dir, Path target, Path temp, byte[] bytes) throws IOException {
        writeAndRename(target, temp, bytes);
        syncDirectory(dir);
    }

    /**
     * The first half of {@link #replaceAtomically}: on failure nothing changed (the temporary file is
     * removed); on return readers see the new file, which is durable once its directory is flushed.
     */
    public static void writeAndRename(Path target, Path temp, byte[] bytes) throws IOException {
        try {
            writeNew(temp, bytes);
            rename(temp, target);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(temp);
            throw e;
        }
    }
}
