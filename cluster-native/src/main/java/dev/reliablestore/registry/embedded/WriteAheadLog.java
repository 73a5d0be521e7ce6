package dev.reliablestore.registry.embedded;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The append side of the log: one open segment file ({@code wal-<first sequence>.log}) that
 * records are written to and forced. Used by one flushing thread at a time.
 *
 * <h2>Preallocation</h2>
 * A segment grows in steps of zeros written ahead of the records ({@link #preallocationFor}), so
 * that most commits overwrite bytes inside the file: their {@code fdatasync} then flushes data
 * only, not a new file size (a metadata write, a journal commit on ext4/xfs). Recovery reads a
 * zero tail after the last record as unused space (docs/embedded-backend.md, "Log layout"). Only
 * the newest segment has one: rotation and a clean close cut the segment to its records. A flush of
 * {@link #APPEND_FLUSH_BYTES} or more past the zeros appends instead, without zeros after it.
 *
 * <h2>The spare segment</h2>
 * A step of zeros is written and forced by the commit that reaches it: megabytes on one commit's
 * path (about 4 ms here for the default 4 MiB step, every 4 MiB of log). So once a segment holds
 * half a step of records, the next segment is prepared in the background ({@link #SPARE}: zeros
 * over the whole size at which a segment rotates, forced in 1 MiB steps so that the disk is never
 * handed one large burst), and the next rotation renames it into place instead of creating an
 * empty file. A segment whose zeros are nearly used up rotates early into a ready spare
 * ({@link #shouldRotateEarly}), so once a spare is ready no commit writes zeros (one that is late,
 * behind a large snapshot, leaves the steps of zeros to the commits meanwhile). The spare is not a
 * segment until renamed: recovery deletes a leftover one with the other {@code .tmp} files, and a
 * clean close deletes it.
 *
 * <h2>Interrupts</h2>
 * A {@code FileChannel} closes itself when a thread blocked in it is interrupted, and committers
 * write and force on their own thread. Every write is positional and the flushing thread holds
 * the whole flush in its buffer, so after a {@link ClosedByInterruptException} the log reopens the
 * segment, writes every byte of the flush again at the same offsets and forces it on the new
 * descriptor: a retry that does not trust the page cache (the reason a failed fsync is never
 * retried), then restores the interrupt.
 */
final class WriteAheadLog implements AutoCloseable {

    private static final Pattern SEGMENT = Pattern.compile("wal-(\\d{20})\\.log");
    private static final Logger LOG = LoggerFactory.getLogger(WriteAheadLog.class);
    /** The next segment while it is prepared or ready (not a segment: its name does not match one). */
    static final String SPARE = "next-segment.tmp";
    private static final long SPARE_FORCE_BYTES = 1L << 20;
    /** A spare is prepared only while the disk has room for this many of them: it must not take the log's own room. */
    private static final long SPARE_HEADROOM = 4;
    private static final int NO_SPARE = 0;
    private static final int PREPARING = 1;
    private static final int READY = 2;
    /** The last preparation failed (or the disk had no room for it): none again before the next rotation. */
    private static final int FAILED = 3;
    private static final int ZERO_CHUNK = 64 * 1024;
    static final long MIN_PREALLOCATION = ZERO_CHUNK;
    static final long MAX_PREALLOCATION = 4L * 1024 * 1024;
    /**
     * A flush at least this long that reaches past the zeros extends the file itself and writes no
     * zeros ahead. Its size change costs one journal commit, small beside its own bytes; zeros
     * written ahead of an ASYNC backlog (megabytes per asyncFlushInterval) doubled what the disk
     * wrote: while the disk's bandwidth was the limit, an ASYNC save loop ran at about 41 µs per
     * save with the zeros and 28 µs without.
     */
    static final int APPEND_FLUSH_BYTES = 256 * 1024;

    private final Path dir;
    private final ChannelFactory channels;
    private final long preallocation;
    private final long rotateAt;
    private final ByteBuffer zeros = ByteBuffer.allocateDirect(ZERO_CHUNK);
    /**
     * The flush, copied into memory of the log's own, at most {@link #WRITE_CHUNK} at a time: a heap
     * buffer would make the JDK cache a temporary direct buffer as large as the flush in every thread
     * that writes (committers write on their own threads), and a direct buffer as large as the flush,
     * given back after each large one, was allocated, zeroed and faulted in again by every flush of
     * an ASYNC backlog (6 % of the CPU of an ASYNC benchmark, in Unsafe.setMemory alone).
     */
    private ByteBuffer direct = ByteBuffer.allocateDirect(ZERO_CHUNK);
    static final int WRITE_CHUNK = 1 << 20;
    /** Where a piece of a long flush ends in the file: a page, so a multiple of any sector size. */
    static final int PIECE_ALIGNMENT = 4096;
    private FileChannel channel;
    private Path segment;
    /** Where the next record goes: the end of the records. */
    private long position;
    /** The file's size: the records and the zeros after them. */
    private long allocated;
    /** When the last flush's bytes were written (probes only). */
    long writtenAt;
    /**
     * {@link #NO_SPARE} → {@link #PREPARING} (the flushing thread asks) → {@link #READY} or
     * {@link #FAILED} (the background task: done, or failed; {@link #NO_SPARE} when closing) →
     * {@link #NO_SPARE} (a rotation takes a ready one, or clears a failure). One preparation at a
     * time, and a ready spare is never rewritten, so a rotation never renames a spare still being
     * written.
     */
    private final AtomicInteger spare = new AtomicInteger(NO_SPARE);
    /** The records of segments rotated early ({@link #rotateEarly}) since the last rotation at the threshold. */
    private long earlier;
    private volatile Executor background;
    private volatile boolean closing;

    /**
     * Continues {@code segment} after its records, which end at {@code end} (recovery found them;
     * zeros may follow). Segments rotate once their records reach {@code snapshotThreshold}.
     */
    WriteAheadLog(Path dir, ChannelFactory channels, Path segment, long end, long snapshotThreshold) throws IOException {
        this.dir = dir;
        this.channels = channels;
        this.preallocation = preallocationFor(snapshotThreshold);
        this.rotateAt = snapshotThreshold;
        this.segment = segment;
        this.channel = channels.open(segment, StandardOpenOption.WRITE);
        this.allocated = channel.size();
        this.position = Math.min(end, allocated);
    }

    /** Prepares spare segments on {@code executor} from now on (the registry's background thread). */
    void prepareSparesOn(Executor executor) {
        this.background = executor;
    }

    /** The zeros written ahead at a time: an eighth of a segment, within 64 KiB .. 4 MiB. */
    static long preallocationFor(long snapshotThreshold) {
        long step = Math.max(MIN_PREALLOCATION, Math.min(MAX_PREALLOCATION, snapshotThreshold / 8));
        return (step + ZERO_CHUNK - 1) / ZERO_CHUNK * ZERO_CHUNK;
    }

    static Path segmentPath(Path dir, long firstSequence) {
        return dir.resolve(String.format(Locale.ROOT, "wal-%020d.log", firstSequence));
    }

    /** The first sequence a segment file may hold, or -1 when the name is not a segment's. */
    static long firstSequence(Path file) {
        Matcher m = SEGMENT.matcher(file.getFileName().toString());
        return m.matches() ? Long.parseLong(m.group(1)) : -1;
    }

    /** The segment files of {@code dir}, oldest first. */
    static List<Path> segments(Path dir) throws IOException {
        List<Path> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            files.filter(f -> firstSequence(f) >= 0).forEach(out::add);
        }
        out.sort((a, b) -> Long.compare(firstSequence(a), firstSequence(b)));
        return out;
    }

    /** Creates an empty segment and makes its directory entry durable. */
    static Path createSegment(Path dir, ChannelFactory channels, long firstSequence) throws IOException {
        Path file = segmentPath(dir, firstSequence);
        try (FileChannel c = channels.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            c.force(true);
        }
        channels.syncDirectory(dir);
        return file;
    }

    /**
     * Writes {@code length} bytes after the records and forces them (fdatasync): when they reach
     * past the zeros, writing the next step of zeros after them, unless the flush is
     * {@link #APPEND_FLUSH_BYTES} or longer; reopening and redoing the whole flush, zeros included,
     * when an interrupt closed the channel.
     */
    void writeAndForce(byte[] bytes, int length) throws IOException {
        long at = position;
        long end = at + length;
        // past the zeros: the record extends the file (as an append does), then zeros are written ahead,
        // up to the size at which the segment rotates; a long flush writes none
        long grow = end <= allocated ? allocated
                : length >= APPEND_FLUSH_BYTES ? end
                : Math.max(end, Math.min(roundUp(end + preallocation), roundUp(rotateAt)));
        if (direct.capacity() < Math.min(length, WRITE_CHUNK)) {
            direct = ByteBuffer.allocateDirect(Math.min(WRITE_CHUNK, Math.max(length, direct.capacity() * 2)));
        }
        long zerosFrom = Math.max(allocated, end); // fixed before the first attempt: a redo rewrites the zeros too
        redoOnInterrupt(attempt -> {
            ByteBuffer b = direct;
            long p = at;
            for (int off = 0; off < length; ) {
                int n = length - off;
                if (n > b.capacity()) {
                    // a crash between two writes leaves zeros after this piece, which recovery takes for a torn
                    // write only from a sector boundary on: end it on a page boundary of the file
                    n = b.capacity() - (int) ((at + off) & (PIECE_ALIGNMENT - 1));
                }
                b.clear();
                b.put(bytes, off, n).flip();
                while (b.hasRemaining()) {
                    p += channel.write(b, p);
                }
                off += n;
            }
            if (grow > zerosFrom) {
                preallocate(zerosFrom, grow);
            } else {
                allocated = Math.max(allocated, end);
            }
            if (CommitProbe.ENABLED) {
                writtenAt = System.nanoTime();
            }
            // fdatasync: inside the preallocated zeros it flushes data only
            channel.force(false);
        });
        position = end;
        if (position >= preallocation / 2 && background != null && spare.compareAndSet(NO_SPARE, PREPARING)) {
            try {
                background.execute(this::prepareSpare);
            } catch (RejectedExecutionException | OutOfMemoryError notStarted) {
                // closed, or no thread can start: commits write their steps of zeros as before; the records are forced,
                // and an Error escaping here would fail a flush that is on the disk
                spare.set(NO_SPARE);
            }
        }
    }

    /**
     * Whether the flushing thread should rotate now, at any size: a spare is ready and the zeros left
     * in this segment would not hold one more small flush (an eighth of a step), so the next commit
     * would write a step of zeros itself.
     */
    boolean shouldRotateEarly() {
        long zerosLeft = allocated - position;
        // not when the threshold comes first: its rotation takes the spare (an early one would waste it on a short segment)
        return position > 0 && spare.get() == READY && zerosLeft < preallocation / 8 && rotateAt - bytesSinceThresholdRotation() > zerosLeft;
    }

    /** Writes the spare: zeros over the size at which a segment rotates, forced; on failure there is none, and steps of zeros go on. */
    private void prepareSpare() {
        Path file = dir.resolve(SPARE);
        long size = roundUp(rotateAt);
        boolean ready = false;
        try {
            Files.deleteIfExists(file);
            long usable = channels.usableSpace(dir);
            if (usable < SPARE_HEADROOM * size) {
                // the spare would take room the log itself may need: without it, commits write their zeros as before
                LOG.debug("log directory {}: {} bytes usable, not preparing a {}-byte spare segment", dir, usable, size);
                return;
            }
            try (FileChannel c = channels.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                for (long p = 0; p < size; ) {
                    if (closing) {
                        return;
                    }
                    ByteBuffer z = zeros.duplicate(); // never written to: one buffer serves both threads
                    z.clear().limit((int) Math.min(ZERO_CHUNK, size - p));
                    while (z.hasRemaining()) {
                        p += c.write(z, p);
                    }
                    if (p % SPARE_FORCE_BYTES == 0) {
                        c.force(false);
                    }
                }
                c.force(true);
            }
            ready = true;
        } catch (IOException | RuntimeException e) {
            // e.g. a full disk: the log goes on with steps of zeros, and asks again after the next rotation
            LOG.info("log directory {}: preparing the next segment failed; commits write zeros ahead themselves", dir, e);
        } finally {
            if (!ready) {
                try {
                    Files.deleteIfExists(file);
                } catch (IOException e) {
                    LOG.debug("log directory {}: could not delete {}", dir, file, e);
                }
            }
            // PREPARING only while this runs, and the flushing thread moves it on only from READY or FAILED
            spare.set(ready && !closing ? READY : closing ? NO_SPARE : FAILED);
        }
    }

    private static long roundUp(long n) {
        return (n + 4095) / 4096 * 4096;
    }

    /**
     * Writes zeros over [from, to): best effort, as the records need none of it. A disk too full for
     * them keeps what fitted (zeros are unused space to recovery) and the records append as before.
     */
    private void preallocate(long from, long to) throws IOException {
        try {
            writeZeros(from, to);
            allocated = to;
        } catch (ClosedByInterruptException e) {
            throw e;
        } catch (IOException e) {
            allocated = Math.max(from, channel.size());
        }
    }

    /** One step of the log's I/O, run again whole (attempt 1, 2, …) when an interrupt closed the channel. */
    private interface IoStep {
        void run(int attempt) throws IOException;
    }

    /**
     * Runs {@code step}; when an interrupt of the calling thread closes the channel, clears the
     * interrupt (else every operation on a new channel would close it again), reopens the segment,
     * runs the step again, and restores the interrupt at the end. Every step is idempotent.
     */
    private void redoOnInterrupt(IoStep step) throws IOException {
        boolean interrupted = false;
        try {
            for (int attempt = 1; ; attempt++) {
                try {
                    step.run(attempt);
                    return;
                } catch (ClosedByInterruptException e) {
                    Thread.interrupted();
                    interrupted = true;
                    if (!channel.isOpen()) {
                        channel = channels.open(segment, StandardOpenOption.WRITE);
                    }
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void writeZeros(long from, long to) throws IOException {
        long p = from;
        while (p < to) {
            ByteBuffer z = zeros.duplicate();
            z.clear().limit((int) Math.min(ZERO_CHUNK, to - p));
            while (z.hasRemaining()) {
                p += channel.write(z, p);
            }
        }
    }

    boolean spareReady() {
        return spare.get() == READY;
    }

    /**
     * The records written since the last rotation at the threshold, across segments rotated early:
     * what the threshold (snapshots, and so the log replayed on open) counts.
     */
    long bytesSinceThresholdRotation() {
        return earlier + position;
    }

    /** {@link #rotate} into the spare before this segment's zeros run out; the threshold keeps counting this segment's records. */
    void rotateEarly(long nextSequence) throws IOException {
        long carried = earlier + position;
        rotate(nextSequence);
        earlier = carried;
    }

    /** The bytes of records in the current segment (not counting preallocated zeros). */
    long segmentBytes() {
        return position;
    }

    Path segment() {
        return segment;
    }

    /**
     * Closes the current segment (already forced), cut to its records, and continues in a new one
     * starting at {@code nextSequence}. The cut is forced before the new segment exists, so only the
     * newest segment ever ends in preallocated zeros.
     */
    void rotate(long nextSequence) throws IOException {
        redoOnInterrupt(attempt -> trimToRecords());
        Path next = segmentPath(dir, nextSequence);
        boolean fromSpare = spare.get() == READY;
        redoOnInterrupt(attempt -> {
            if (fromSpare) {
                // a retry finds the spare renamed by the interrupted attempt
                if (attempt == 1 || !Files.exists(next)) {
                    channels.move(dir.resolve(SPARE), next, StandardCopyOption.ATOMIC_MOVE);
                }
            } else {
                // a retry finds the file the interrupted attempt created
                try (FileChannel c = channels.open(next, attempt == 1 ? StandardOpenOption.CREATE_NEW : StandardOpenOption.CREATE,
                        StandardOpenOption.WRITE)) {
                    c.force(true);
                }
            }
            channels.syncDirectory(dir);
        });
        if (fromSpare) {
            spare.set(NO_SPARE);
        } else {
            spare.compareAndSet(FAILED, NO_SPARE); // a new segment may try again
        }
        FileChannel nextChannel = channels.open(next, StandardOpenOption.WRITE);
        FileChannel old = channel;
        channel = nextChannel;
        segment = next;
        position = 0;
        earlier = 0;
        // the spare's size is known: size() here, with an interrupt restored above, would close the new channel
        allocated = fromSpare ? roundUp(rotateAt) : 0;
        old.close();
    }

    /**
     * After a failed write or fsync: cuts the segment back to the records that were forced. A failed
     * fsync may leave the failed flush's pages clean in the page cache though the disk lacks them, so
     * a reopen in the same boot (this process or another) would read them back whole and count them
     * durable, and records acknowledged after them could be lost behind a hole after a power loss.
     * Cutting the file drops those pages; the open that comes next forces the new size before it
     * writes. Returns whether the cut was made (a failure is logged here with its cause).
     */
    boolean cutUnforced() {
        try {
            redoOnInterrupt(attempt -> {
                if (!channel.isOpen()) {
                    channel = channels.open(segment, StandardOpenOption.WRITE);
                }
                channel.truncate(position);
            });
            allocated = Math.min(allocated, position);
            return true;
        } catch (IOException | RuntimeException | Error e) {
            LOG.error("embedded registry {}: cutting the records of the failed flush off {} at offset {} failed", dir, segment, position, e);
            return false;
        }
    }

    /** Cuts the preallocated zeros off the segment and forces the new size. */
    private void trimToRecords() throws IOException {
        if (allocated > position) {
            channel.truncate(position);
            channel.force(true);
            allocated = position;
        }
    }

    /** Stops preparing a spare (a preparation running ends at its next step); before the background thread is awaited. */
    void stopSpares() {
        closing = true;
    }

    /** Closes the segment; {@code trim} (a clean close) cuts its preallocated zeros off first. A spare is deleted. */
    void close(boolean trim) throws IOException {
        closing = true;
        try {
            if (trim && channel.isOpen()) {
                redoOnInterrupt(attempt -> trimToRecords());
            }
        } finally {
            channel.close();
            if (spare.get() != PREPARING) { // one still being written deletes itself
                Files.deleteIfExists(dir.resolve(SPARE));
            }
        }
    }

    @Override
    public void close() throws IOException {
        close(false);
    }
}
