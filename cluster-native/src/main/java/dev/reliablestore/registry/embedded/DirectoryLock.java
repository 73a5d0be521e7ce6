package dev.reliablestore.registry.embedded;

import dev.reliablestore.registry.RegistryUnavailableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * An embedded registry's exclusive hold on its directory: a lock on {@value #LOCK_FILE}, taken once
 * per process.
 *
 * <p>On Linux (and every POSIX system) {@code FileChannel.tryLock} takes a record lock, which belongs
 * to the process, and closing <em>any</em> descriptor of the file drops all of the process's locks on
 * it. A second open in the same process that opened the lock file, failed its {@code tryLock} and
 * closed its channel would leave the directory unlocked for other processes while the first
 * registry still wrote there. So the directories this process holds are kept here and checked
 * before a channel on the lock file is opened: a second claim fails without touching the file.
 *
 * <p>Code this table cannot see (a registry loaded by another class loader, the application itself)
 * may hold the lock too: {@code tryLock} then fails with {@link OverlappingFileLockException}, and
 * the channel is parked instead of closed, to be tried again by the next claim on the same lock file.
 */
final class DirectoryLock {

    static final String LOCK_FILE = "registry.lock";

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedRegistry.class);

    /** The directories this process holds, by real path (a symbolic link to one is the same directory). */
    private static final ConcurrentHashMap<Path, DirectoryLock> HELD = new ConcurrentHashMap<>();

    /**
     * Channels on a lock file whose {@code tryLock} met a lock held elsewhere in this process: closing
     * one would drop that lock, so they stay open and are reused (one per concurrent failed claim), by
     * the file's identity (device and inode: a directory replaced under the same path has a new lock
     * file, which a channel on the old one must not stand for). An open channel keeps its inode
     * from being reused.
     */
    private static final ConcurrentHashMap<Object, Queue<FileChannel>> PARKED = new ConcurrentHashMap<>();
    private final Path dir;
    private final Path key;
    private FileChannel channel;
    private FileLock lock;
    /** Set when the registry closed while a thread of it still writes in the directory. */
    private volatile boolean closedWhileStillWriting;

    private DirectoryLock(Path dir, Path key) {
        this.dir = dir;
        this.key = key;
    }

    /**
     * Locks {@code dir} (which exists) for this registry, or fails naming who holds it: this
     * process (open, or closed with a thread still writing) or another one.
     */
    static DirectoryLock acquire(Path dir) {
        Path key;
        try {
            key = dir.toRealPath();
        } catch (IOException e) {
            throw new RegistryUnavailableException("cannot resolve the embedded registry directory " + dir + ": " + e, e);
        }
        DirectoryLock claim = new DirectoryLock(dir, key);
        DirectoryLock held = HELD.putIfAbsent(key, claim);
        if (held != null) {
            throw held.closedWhileStillWriting
                    ? new RegistryUnavailableException("the embedded registry directory " + dir + " was closed in this process, but a"
                            + " background thread of that registry is still writing there (a disk that stopped answering?); the"
                            + " directory is unlocked when it ends", null)
                    : new RegistryUnavailableException("the embedded registry directory " + dir
                            + " is already open in this process; open it once and share the registry", null);
        }
        boolean locked = false;
        try {
            claim.lockFile();
            locked = true;
            return claim;
        } finally {
            if (!locked) {
                HELD.remove(key, claim);
            }
        }
    }

    private void lockFile() {
        Path file = dir.resolve(LOCK_FILE);
        Object identity = identity(file);
        Queue<FileChannel> parked = identity == null ? null : PARKED.get(identity);
        channel = parked == null ? null : parked.poll();
        if (channel == null) {
            try {
                channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            } catch (IOException e) {
                throw new RegistryUnavailableException("cannot open the lock file " + file + ": " + e, e);
            }
            identity = identity(file); // the file just opened (or created), unless it was replaced in between
        }
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            // not a registry of this class (those are in HELD): other code of this process locked the file
            if (identity == null) {
                // no file identity: Windows, where a lock belongs to its handle and closing this one drops no other
                closeChannel();
            } else {
                PARKED.computeIfAbsent(identity, k -> new ConcurrentLinkedQueue<>()).add(channel);
            }
            throw new RegistryUnavailableException("cannot lock " + file + ": other code in this process holds a lock on it", e);
        } catch (IOException e) {
            closeChannel();
            throw new RegistryUnavailableException("cannot lock " + file + ": " + e, e);
        }
        if (lock == null) {
            closeChannel();
            throw new RegistryUnavailableException("the embedded registry directory " + dir + " is in use by another process (it holds"
                    + " the lock on " + file + "); only one process may open a directory at a time", null);
        }
    }

    /** The lock file's identity ({@code fileKey}), or null when it does not exist or the file system has none. */
    private static Object identity(Path file) {
        try {
            return Files.readAttributes(file, BasicFileAttributes.class).fileKey();
        } catch (IOException e) {
            return null;
        }
    }

    /** Whether the lock is still held (health). */
    boolean isValid() {
        return lock.isValid();
    }

    /** From now until {@link #release}, a second open in this process says why the directory is still locked. */
    void closedWhileStillWriting() {
        closedWhileStillWriting = true;
    }

    /** Unlocks the directory; only then may another registry of this process claim it. */
    void release() {
        try {
            lock.release();
        } catch (IOException e) {
            LOG.debug("releasing the registry lock failed", e);
        }
        closeChannel();
        HELD.remove(key, this);
    }

    private void closeChannel() {
        try {
            channel.close();
        } catch (IOException e) {
            LOG.debug("closing {} failed", channel, e);
        }
    }
}
