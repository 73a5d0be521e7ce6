package dev.reliablestore.tx;

import dev.reliablestore.api.ConfigurationException;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One coordinator per node name and log directory: a lock on {@code <nodeName>.lock} in the log
 * directory, held while the factory is open.
 *
 * <p>Two coordinators of one node would ruin each other's transactions: {@code recover} of one
 * presumes abort for a branch the other has prepared and is about to commit, and each one's start-up
 * deletes the other's half-written decisions. The file is never deleted (a process waiting to lock
 * a deleted file would hold a lock nobody else sees). On POSIX systems closing any descriptor of the
 * file drops all of the process's locks on it, so the files this process holds are kept here and a
 * second claim fails before a channel on the file is opened.
 */
final class CoordinatorLock {

    static final String SUFFIX = ".lock";

    private static final ConcurrentHashMap<Path, CoordinatorLock> HELD = new ConcurrentHashMap<>();

    private final Path key;
    private FileChannel channel;
    private FileLock lock;

    private CoordinatorLock(Path key) {
        this.key = key;
    }

    /** Locks the node's file in {@code directory} (which exists), or fails saying who holds it. */
    static CoordinatorLock acquire(Path directory, String nodeName) throws IOException {
        Path key = directory.toRealPath().resolve(nodeName + SUFFIX);
        CoordinatorLock claim = new CoordinatorLock(key);
        if (HELD.putIfAbsent(key, claim) != null) {
            throw taken(nodeName, directory, "in this process");
        }
        boolean locked = false;
        try {
            claim.channel = FileChannel.open(key, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            try {
                claim.lock = claim.channel.tryLock();
            } catch (OverlappingFileLockException e) {
                throw taken(nodeName, directory, "by other code in this process");
            }
            if (claim.lock == null) {
                throw taken(nodeName, directory, "in another process");
            }
            locked = true;
            return claim;
        } finally {
            if (!locked) {
                if (claim.channel != null) {
                    claim.channel.close();
                }
                HELD.remove(key, claim);
            }
        }
    }

    private static ConfigurationException taken(String nodeName, Path directory, String where) {
        return new ConfigurationException("node name \"" + nodeName + "\" already has an open transaction factory with the"
                + " coordinator log " + directory + " (" + where + ", which holds " + directory.resolve(nodeName + SUFFIX)
                + "); two coordinators of one node would roll back each other's transactions in recover(): give each its own"
                + " nodeName, or close the other factory first");
    }

    void release() throws IOException {
        try {
            channel.close(); // releases the lock
        } finally {
            HELD.remove(key, this);
        }
    }
}
