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
     * follow; 0 when there is no segment); the sequence of the snapshot it started from (0: none) and
     * the last BATCH record read (written by an older version, 0: none), which replaying watches cannot replay.
     */
    record Recovered(TreeState state, long newestEnd, long snapshotSequence, long legacyUpTo) {
    }

    /**
     * Newest snapshot plus the log after it; removes leftovers of interrupted snapshots. Segments
     * before the snapshot (kept for replaying watches, or left by an interrupted cleanup) are not
     * read: they neither slow opening down nor, damaged, stop it.
     */
    static Recovered recover(Path dir, ChannelFactory channels, boolean truncateDamagedTail) throws IOException {
        List<Path> snapshots = SnapshotFiles.list(dir);
        Path snapshot = snapshots.isEmpty() ? null : snapshots.get(snapshots.size() - 1);
        TreeState base = snapshot == null ? TreeState.EMPTY : SnapshotFiles.read(snapshot);
        List<Path> segments = WriteAheadLog.segments(dir);
        TreeState[] state = {base};
        long[] newestEnd = {0};
        long[] legacyUpTo = {0};
        LogReader.replay(segments, snapshot, base.sequence(), channels, truncateDamagedTail, r -> {
            if (r.mutations() != null && r.changes() == null) {
                legacyUpTo[0] = r.sequence();
            }
            state[0] = applyRecord(state[0], r);
        }, newestEnd);
        // only once the directory was read without a refusal: a refused open leaves the files untouched (to be copied
        // before truncateDamagedTail), and a complete snapshot .tmp may be what recovers a damaged segment by hand
        try (Stream<Path> files = Files.list(dir)) {
            for (Path tmp : (Iterable<Path>) files.filter(f -> f.getFileName().toString().endsWith(".tmp"))::iterator) {
                LOG.info("removing {}, left by a snapshot or a spare log segment that was interrupted before it was complete", tmp);
                Files.delete(tmp);
            }
        }
        return new Recovered(state[0], newestEnd[0], snapshot == null ? 0 : base.sequence(), legacyUpTo[0]);
    }

    static TreeState applyRecord(TreeState s, LogCodec.LogRecord r) {
        if (r.mutations() != null) {
            return new TreeState(TreeOps.apply(s.root(), r.mutations(), r.sequence()).root(), r.sequence(), s.faults());
        } else if (r.fault() != null) {
            return new TreeState(s.root(), r.sequence(), PersistentSortedMap.put(s.faults(), r.fault().id(), r.fault()));
        }
        return new TreeState(s.root(), r.sequence(), PersistentSortedMap.remove(s.faults(), r.removedFaultId()));
    }
}
