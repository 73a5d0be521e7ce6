package dev.reliablestore.registry.embedded;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * What an embedded registry directory holds, as a tree: the newest snapshot with the log after it
 * replayed, and the files a snapshot made obsolete removed.
 */
final class EmbeddedRecovery {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedRecovery.class);

    private EmbeddedRecovery() {
    }

    /**
     * The recovered tree, and where the records of the newest segment end (preallocated zeros may
     * follow; 0 when there is no segment).
     */
    record Recovered(TreeState state, long newestEnd) {
    }

    /** Newest snapshot plus the log after it; removes leftovers of interrupted snapshots and cleanups. */
    static Recovered recover(Path dir, boolean truncateDamagedTail) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path tmp : (Iterable<Path>) files.filter(f -> f.getFileName().toString().endsWith(".tmp"))::iterator) {
                LOG.info("removing {}, left by a snapshot that was interrupted before it was complete", tmp);
                Files.delete(tmp);
            }
        }
        List<Path> snapshots = SnapshotFiles.list(dir);
        Path snapshot = snapshots.isEmpty() ? null : snapshots.get(snapshots.size() - 1);
        TreeState base = snapshot == null ? TreeState.EMPTY : SnapshotFiles.read(snapshot);
        List<Path> segments = WriteAheadLog.segments(dir);
        TreeState[] state = {base};
        long[] newestEnd = {0};
        LogReader.replay(segments, snapshot, base.sequence(), truncateDamagedTail, r -> state[0] = applyRecord(state[0], r), newestEnd);
        removeObsolete(dir, base.sequence());
        return new Recovered(state[0], newestEnd[0]);
    }

    static TreeState applyRecord(TreeState s, LogCodec.LogRecord r) {
        if (r.mutations() != null) {
            return new TreeState(TreeOps.apply(s.root(), r.mutations(), r.sequence()).root(), r.sequence(), s.faults());
        } else if (r.fault() != null) {
            return new TreeState(s.root(), r.sequence(), PersistentSortedMap.put(s.faults(), r.fault().id(), r.fault()));
        }
        return new TreeState(s.root(), r.sequence(), PersistentSortedMap.remove(s.faults(), r.removedFaultId()));
    }

    /** Deletes snapshots older than the one at {@code snapshotSequence} and segments it covers entirely. */
    static void removeObsolete(Path dir, long snapshotSequence) throws IOException {
        boolean changed = false;
        for (Path s : SnapshotFiles.list(dir)) {
            if (SnapshotFiles.sequenceOf(s) < snapshotSequence) {
                Files.delete(s);
                changed = true;
            }
        }
        List<Path> segments = WriteAheadLog.segments(dir);
        for (int i = 0; i + 1 < segments.size(); i++) {
            if (WriteAheadLog.firstSequence(segments.get(i + 1)) <= snapshotSequence + 1) {
                Files.delete(segments.get(i));
                changed = true;
            }
        }
        if (changed) {
            WriteAheadLog.syncDirectory(dir);
        }
    }
}
