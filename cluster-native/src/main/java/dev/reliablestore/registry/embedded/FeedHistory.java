package dev.reliablestore.registry.embedded;

import dev.reliablestore.registry.spi.ReplayCheckpoints;
import dev.reliablestore.registry.ChangeBatch;
import dev.reliablestore.registry.FeedHistoryUnavailableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * The history replaying watches read: the log segments themselves. A segment that the newest
 * snapshot made unnecessary for recovery is kept until its last record is older than
 * {@code feedRetention} (its modification time: segments are written in order and cut at
 * rotation, so nothing in it is newer), then deleted with every older one. The history is
 * therefore always one contiguous run of segments ending at the newest, and
 * {@link #replayableAfter()} is the sequence before the oldest segment, or the persisted floor
 * ({@value #FLOOR_FILE}) when that is higher: what a directory written by an older version holds
 * (its BATCH records do not say which keys a command created), and what damage found in an old
 * segment made unreadable.
 *
 * <p>Deletion, the refusal of a checkpoint and the pins readers hold on the segments they still
 * need are decided under one lock, so a watch accepted after sequence S finds every segment
 * holding S + 1 and later until it releases its pin.
 */
final class FeedHistory {

    private static final Logger LOG = LoggerFactory.getLogger(FeedHistory.class);
    static final String FLOOR_FILE = "feed-floor";

    private final Path dir;
    private final ChannelFactory channels;
    private final Duration retention;
    private final LongSupplier clock;
    private final ReentrantLock lock = new ReentrantLock();
    // ---- guarded by lock
    /** The next sequence each reader needs, with how many readers need it. */
    private final TreeMap<Long, Integer> pins = new TreeMap<>();
    private long floor;
    // ---- read without the lock
    private volatile long replayableAfter;

    private FeedHistory(Path dir, ChannelFactory channels, Duration retention, LongSupplier clock, long floor) {
        this.dir = dir;
        this.channels = channels;
        this.retention = retention;
        this.clock = clock;
        this.floor = floor;
    }

    /**
     * Reads the floor (a directory without one was written by an older version when it holds any
     * sequence: its history before {@code recoveredSequence} is not replayable) and raises it above
     * {@code legacyUpTo}, the last BATCH record recovery read.
     */
    static FeedHistory open(Path dir, ChannelFactory channels, Duration retention, LongSupplier clock, long recoveredSequence, long legacyUpTo)
            throws IOException {
        Path file = dir.resolve(FLOOR_FILE);
        long floor;
        boolean write;
        if (Files.exists(file)) {
            try {
                floor = readFloor(file);
                write = legacyUpTo > floor;
            } catch (IOException e) {
                // only the history depends on it: give up what it may have covered (every floor ever written is at most
                // the recovered sequence) rather than refuse to open
                LOG.warn("embedded registry {}: {}; replaying watches start after sequence {} (the current one)", dir, e.getMessage(),
                        recoveredSequence);
                floor = recoveredSequence;
                write = true;
            }
        } else {
            floor = recoveredSequence;
            write = true;
        }
        floor = Math.max(floor, legacyUpTo);
        FeedHistory h = new FeedHistory(dir, channels, retention, clock, floor);
        if (write) {
            h.writeFloor(floor);
        }
        return h;
    }

    private static long readFloor(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.US_ASCII).strip();
        try {
            long v = Long.parseLong(text);
            if (v < 0) {
                throw new NumberFormatException("negative");
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IOException(file + " does not hold a sequence (found \"" + (text.length() > 40 ? text.substring(0, 40) + "…" : text)
                    + "\")", e);
        }
    }

    private void writeFloor(long value) throws IOException {
        Path tmp = dir.resolve(FLOOR_FILE + ".tmp");
        try (FileChannel ch = channels.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap((value + "\n").getBytes(StandardCharsets.US_ASCII));
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        }
        channels.move(tmp, dir.resolve(FLOOR_FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        channels.syncDirectory(dir);
    }

    /** The oldest checkpoint accepted now. */
    long replayableAfter() {
        return replayableAfter;
    }

    Duration retention() {
        return retention;
    }

    /** What {@link FeedHistoryUnavailableException} says the history is. */
    String describe() {
        return "the embedded registry " + dir + " keeps log segments for feedRetention=" + dev.reliablestore.options.Durations.format(retention)
                + " after their last record (docs/embedded-backend.md, \"Replaying watches\")";
    }

    /**
     * Deletes the snapshots older than the one at {@code snapshotSequence}, and the oldest segments
     * that snapshot covers once they are older than the retention and no reader needs them.
     */
    void removeObsolete(long snapshotSequence) throws IOException {
        removeObsolete(snapshotSequence, clock.getAsLong());
    }

    /** {@link #removeObsolete(long)} as if the time were {@code now} (epoch milliseconds). */
    void removeObsolete(long snapshotSequence, long now) throws IOException {
        lock.lock();
        try {
            boolean changed = false;
            for (Path s : SnapshotFiles.list(dir)) {
                if (SnapshotFiles.sequenceOf(s) < snapshotSequence) {
                    Files.delete(s);
                    changed = true;
                }
            }
            List<Path> segments = WriteAheadLog.segments(dir);
            long needed = pins.isEmpty() ? Long.MAX_VALUE : pins.firstKey();
            int deleted = 0;
            try {
                for (int i = 0; i + 1 < segments.size(); i++) {
                    long nextFirst = WriteAheadLog.firstSequence(segments.get(i + 1));
                    if (nextFirst > snapshotSequence + 1 || nextFirst > needed
                            || now - Files.getLastModifiedTime(segments.get(i)).toMillis() < retention.toMillis()) {
                        break;
                    }
                    Files.delete(segments.get(i));
                    deleted = i + 1;
                    // one at a time, oldest first: a power loss keeps a prefix of the deletions, never a gap in the history
                    channels.syncDirectory(dir);
                    changed = false;
                }
                if (changed) {
                    channels.syncDirectory(dir);
                }
            } finally {
                // also after a failure part-way: a watch from inside a segment already deleted must be refused, not accepted
                refreshLocked(segments.subList(deleted, segments.size()));
            }
        } finally {
            lock.unlock();
        }
    }

    /** Recomputes {@link #replayableAfter()} from the segments present (after the newest was created on open). */
    void refresh() throws IOException {
        lock.lock();
        try {
            refreshLocked(WriteAheadLog.segments(dir));
        } finally {
            lock.unlock();
        }
    }

    private void refreshLocked(List<Path> segments) {
        long oldest = segments.isEmpty() ? 0 : WriteAheadLog.firstSequence(segments.get(0)) - 1;
        replayableAfter = Math.max(replayableAfter, Math.max(floor, oldest));
    }

    /**
     * Gives up the history up to {@code sequence} (damage found there): persisted, so it stays given up after reopening.
     */
    void raiseFloor(long sequence, String why) {
        lock.lock();
        try {
            if (sequence <= floor) {
                return;
            }
            LOG.warn("embedded registry {}: replaying watches can no longer replay from before sequence {}: {}", dir, sequence, why);
            floor = sequence;
            replayableAfter = Math.max(replayableAfter, sequence);
            try {
                writeFloor(sequence);
            } catch (IOException e) {
                LOG.warn("embedded registry {}: could not persist {} = {}; after reopening the same damage is found again", dir, FLOOR_FILE,
                        sequence, e);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Where a reader is: segments holding {@code next} and later are kept until it is released. */
    final class Pin {
        private long next;
        private boolean released;
        // where the last read stopped (its reader's thread only): a reader that goes on from there
        // starts at that offset instead of scanning the segment from its first record again, which
        // made a replay that chases live writes quadratic in the size of the active segment
        private Path resumeSegment;
        private long resumeSequence = -1;
        private long resumeOffset;

        private Pin(long next) {
            this.next = next;
        }

        void advance(long to) {
            lock.lock();
            try {
                if (!released && to > next) {
                    unpinLocked(next);
                    next = to;
                    pins.merge(next, 1, Integer::sum);
                }
            } finally {
                lock.unlock();
            }
        }

        void release() {
            lock.lock();
            try {
                if (!released) {
                    released = true;
                    unpinLocked(next);
                }
            } finally {
                lock.unlock();
            }
        }
    }

    private void unpinLocked(long at) {
        pins.computeIfPresent(at, (k, n) -> n == 1 ? null : n - 1);
    }

    /**
     * Pins the history after {@code afterSequence} for a reader.
     *
     * @throws FeedHistoryUnavailableException it no longer reaches back that far
     */
    Pin pin(long afterSequence) {
        lock.lock();
        try {
            ReplayCheckpoints.requireRetained(afterSequence, replayableAfter, describe());
            Pin p = new Pin(afterSequence + 1);
            pins.merge(afterSequence + 1, 1, Integer::sum);
            return p;
        } finally {
            lock.unlock();
        }
    }

    // =========================================================================================
    // reading
    // =========================================================================================

    /** The history cannot be read at {@link #at()}: damaged, missing, or written by an older version. */
    static final class Unreadable extends Exception {
        private static final long serialVersionUID = 1L;
        private final long resumeAfter;

        Unreadable(String message, long resumeAfter) {
            super(message, null, false, false);
            this.resumeAfter = resumeAfter;
        }

        /** The last sequence of the unreadable part: reading may go on after it. */
        long at() {
            return resumeAfter;
        }
    }

    interface BatchSink {
        /** Returns false to stop reading (the watch was closed). */
        boolean accept(ChangeBatch batch) throws InterruptedException;
    }

    /**
     * Reads the batches after {@code after} up to {@code upTo} (durable) in order, one record in
     * memory at a time; health-fault records are skipped. Returns the last sequence handed on (or
     * read past), which is {@code upTo} unless the sink stopped.
     */
    long read(long after, long upTo, Pin pin, BatchSink sink) throws IOException, Unreadable, InterruptedException {
        long next = after + 1;
        while (next <= upTo) {
            List<Path> segments = WriteAheadLog.segments(dir);
            int at = -1;
            for (int i = 0; i < segments.size(); i++) {
                if (WriteAheadLog.firstSequence(segments.get(i)) <= next) {
                    at = i;
                }
            }
            if (at < 0) {
                long resume = segments.isEmpty() ? upTo : WriteAheadLog.firstSequence(segments.get(0)) - 1;
                throw new Unreadable("no log segment holds sequence " + next, Math.min(resume, upTo));
            }
            Path segment = segments.get(at);
            long end = at + 1 < segments.size() ? WriteAheadLog.firstSequence(segments.get(at + 1)) - 1 : upTo;
            long last;
            try {
                last = readSegment(segment, next, Math.min(end, upTo), sink, pin);
            } catch (NoSuchFileException e) {
                throw new Unreadable("log segment " + segment + " is gone", Math.min(end, upTo));
            }
            if (last < 0) {
                return next - 1;
            }
            if (last < Math.min(end, upTo)) {
                throw new Unreadable("log segment " + segment + " ends at sequence " + last + ", before " + Math.min(end, upTo),
                        Math.min(end, upTo));
            }
            next = last + 1;
            pin.advance(next);
        }
        return upTo;
    }

    /**
     * Reads {@code from..to} from one segment; returns the last sequence read, or -1 when the sink
     * stopped. Starts where {@code pin}'s last read of this segment stopped when it goes on from there
     * (records once read durable do not change while the registry is open), else at the first record.
     */
    private long readSegment(Path segment, long from, long to, BatchSink sink, Pin pin) throws IOException, Unreadable,
            InterruptedException {
        try (FileChannel ch = channels.open(segment, StandardOpenOption.READ)) {
            long size = ch.size();
            long pos = segment.equals(pin.resumeSegment) && from == pin.resumeSequence ? pin.resumeOffset : 0;
            long last = from - 1;
            ByteBuffer header = ByteBuffer.allocate(LogCodec.HEADER_BYTES);
            while (last < to) {
                String problem = null;
                if (size - pos < LogCodec.HEADER_BYTES) {
                    problem = "it ends at offset " + size;
                }
                int length = 0;
                byte[] frame = null;
                if (problem == null) {
                    header.clear();
                    LogReader.readFully(ch, header, pos);
                    byte[] h = header.array();
                    length = LogCodec.readInt(h, 4);
                    if (LogCodec.readInt(h, 0) != LogCodec.MAGIC || length < 9 || length > LogCodec.MAX_RECORD_BYTES
                            || size - pos - LogCodec.HEADER_BYTES < length) {
                        problem = "no intact record header at offset " + pos;
                    } else {
                        frame = new byte[LogCodec.HEADER_BYTES + length];
                        System.arraycopy(h, 0, frame, 0, LogCodec.HEADER_BYTES);
                        LogReader.readFully(ch, ByteBuffer.wrap(frame, LogCodec.HEADER_BYTES, length), pos + LogCodec.HEADER_BYTES);
                        if (LogCodec.frameCrc(frame, 0, length) != LogCodec.readInt(h, 8)) {
                            problem = "checksum mismatch at offset " + pos;
                        }
                    }
                }
                if (problem != null) {
                    throw new Unreadable("log segment " + segment + " is damaged: " + problem + " (sequence " + (last + 1) + " expected)", to);
                }
                long sequence = ByteBuffer.wrap(frame, LogCodec.HEADER_BYTES + 1, 8).getLong();
                pos += LogCodec.HEADER_BYTES + length;
                if (sequence < from) {
                    continue;
                }
                if (sequence != last + 1) {
                    throw new Unreadable("log segment " + segment + " holds sequence " + sequence + " where " + (last + 1) + " was expected",
                            to);
                }
                LogCodec.LogRecord record;
                try {
                    record = LogCodec.decode(frame, LogCodec.HEADER_BYTES, length);
                } catch (IllegalArgumentException e) {
                    throw new Unreadable("log segment " + segment + " holds an undecodable record at offset " + (pos - length
                            - LogCodec.HEADER_BYTES) + ": " + e.getMessage(), to);
                }
                last = sequence;
                if (record.mutations() != null) {
                    if (record.changes() == null) {
                        throw new Unreadable("sequence " + sequence + " in log segment " + segment + " was written by an older version, whose"
                                + " records do not say which keys a batch created", to);
                    }
                    if (!sink.accept(new ChangeBatch(sequence, record.changes()))) {
                        return -1;
                    }
                }
            }
            pin.resumeSegment = segment;
            pin.resumeSequence = last + 1;
            pin.resumeOffset = pos;
            return last;
        }
    }

}
