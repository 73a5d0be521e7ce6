package dev.reliablestore.registry.embedded;

import dev.reliablestore.registry.RegistryCorruptedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * Replays log segments during recovery. The first record of the newest segment that cannot be
 * read, with no valid record after it, is classified by what a crash can leave at the end of a log
 * (docs/embedded-backend.md, "Failure model"): a torn write is truncated with a warning; anything
 * else is damage, which stops the open with {@link RegistryCorruptedException} naming file, offset
 * and what was found, unless {@code truncateDamagedTail} is set. A bad record of the newest segment
 * that valid records follow (a frame that decodes to a later sequence: a copy of older log bytes
 * inside a value is not one) stops the open too, unless {@code truncateDamagedTail} is set, which
 * drops it and everything after it. A bad record in an older segment always stops the open.
 * Nothing is ever dropped without a warning that says what.
 */
final class LogReader {

    private static final Logger LOG = LoggerFactory.getLogger(LogReader.class);
    /** The smallest unit a disk writes whole (or not at all) in the failure model. */
    static final int SECTOR_BYTES = 512;
    /**
     * Zero bytes of a record's own that may end right before the sector boundary a power loss cut
     * it at: the widest field of the format (an int64 sequence, a QWORD) often has that many.
     */
    static final int MAX_OWN_ZERO_BYTES = 8;

    private LogReader() {
    }

    interface Sink {
        void accept(LogCodec.LogRecord record);
    }

    /**
     * Replays every record after {@code afterSequence} from {@code segments} (oldest first).
     *
     * <p>Rotation creates and syncs {@code wal-(S+1)} before it writes {@code snapshot-S}, and a
     * segment is only deleted once a newer snapshot covers it, so the segment after the snapshot
     * always exists (without a snapshot the log starts at sequence 1), and from there every segment
     * starts right after the last sequence of the one before it. Segments that end before the
     * snapshot (kept for replaying watches, or left by a cleanup a crash interrupted) are not read.
     *
     * @param snapshot            the snapshot the state was loaded from (holding {@code afterSequence}), or null
     * @param channels            opens the segments (the newest one for writing: a torn tail is cut there)
     * @param truncateDamagedTail drop a damaged end of the newest segment, from its first bad record on (with a warning), instead of
     *                            refusing to open
     * @param newestEnd           set to where the records of the newest segment end (its preallocated zeros, if any, follow)
     * @return the last sequence found (or {@code afterSequence} when none)
     * @throws RegistryCorruptedException naming the files when a segment is missing or out of sequence
     */
    static long replay(List<Path> segments, Path snapshot, long afterSequence, ChannelFactory channels, boolean truncateDamagedTail,
                       Sink sink, long[] newestEnd) throws IOException {
        int start = 0;
        if (snapshot != null) {
            start = -1;
            for (int i = 0; i < segments.size() && start < 0; i++) {
                if (WriteAheadLog.firstSequence(segments.get(i)) == afterSequence + 1) {
                    start = i;
                }
            }
            if (start < 0) {
                throw new RegistryCorruptedException("snapshot " + snapshot + " holds the state up to sequence " + afterSequence
                        + ", but log segment " + WriteAheadLog.segmentPath(snapshot.getParent(), afterSequence + 1).getFileName()
                        + ", which is created before the snapshot is written and holds every batch from sequence " + (afterSequence + 1)
                        + " on, is missing (segments present: " + names(segments) + "); refusing to open rather than lose the"
                        + " batches committed after the snapshot (nothing was discarded)");
            }
        } else if (!segments.isEmpty() && WriteAheadLog.firstSequence(segments.get(0)) != afterSequence + 1) {
            throw new RegistryCorruptedException("log segment " + segments.get(0) + " starts at sequence " + WriteAheadLog.firstSequence(segments.get(0))
                    + ", but there is no snapshot, so the log must start at sequence " + (afterSequence + 1) + ": the segments holding sequences "
                    + (afterSequence + 1) + ".." + (WriteAheadLog.firstSequence(segments.get(0)) - 1)
                    + " are missing (refusing to open, nothing was discarded)");
        }
        long last = afterSequence;
        for (int i = start; i < segments.size(); i++) {
            Path segment = segments.get(i);
            long first = WriteAheadLog.firstSequence(segment);
            if (first != last + 1) {
                throw new RegistryCorruptedException("log segment " + segment + " starts at sequence " + first + ", but the segment before it, "
                        + segments.get(i - 1).getFileName() + ", ends at sequence " + last + (first > last + 1
                        ? ": sequences " + (last + 1) + ".." + (first - 1) + " are missing"
                        : ": sequences " + first + ".." + last + " would be there twice") + " (refusing to open, nothing was discarded)");
            }
            last = replaySegment(segment, channels, i == segments.size() - 1, last, truncateDamagedTail, sink, newestEnd);
        }
        return last;
    }

    private static String names(List<Path> files) {
        return files.stream().map(f -> f.getFileName().toString()).toList().toString();
    }

    private static long replaySegment(Path segment, ChannelFactory channels, boolean newest, long last, boolean truncateDamagedTail,
                                      Sink sink, long[] newestEnd) throws IOException {
        try (FileChannel ch = newest ? channels.open(segment, StandardOpenOption.READ, StandardOpenOption.WRITE)
                : FileChannel.open(segment, StandardOpenOption.READ)) {
            long size = ch.size();
            long pos = 0;
            ByteBuffer header = ByteBuffer.allocate(LogCodec.HEADER_BYTES);
            while (pos < size) {
                String problem = null;
                LogCodec.LogRecord record = null;
                int length = 0;
                if (size - pos < LogCodec.HEADER_BYTES) {
                    problem = "the record header is cut off (" + (size - pos) + " of " + LogCodec.HEADER_BYTES + " bytes)";
                } else {
                    header.clear();
                    readFully(ch, header, pos);
                    byte[] h = header.array();
                    int magic = LogCodec.readInt(h, 0);
                    length = LogCodec.readInt(h, 4);
                    int crc = LogCodec.readInt(h, 8);
                    if (magic != LogCodec.MAGIC) {
                        problem = String.format("bad record marker 0x%08x", magic);
                    } else if (length < 9 || length > LogCodec.MAX_RECORD_BYTES) {
                        problem = "impossible record length " + length;
                    } else if (size - pos - LogCodec.HEADER_BYTES < length) {
                        problem = "the record is cut off (" + (size - pos - LogCodec.HEADER_BYTES) + " of " + length + " bytes)";
                    } else {
                        byte[] frame = new byte[LogCodec.HEADER_BYTES + length];
                        System.arraycopy(h, 0, frame, 0, LogCodec.HEADER_BYTES);
                        readFully(ch, ByteBuffer.wrap(frame, LogCodec.HEADER_BYTES, length), pos + LogCodec.HEADER_BYTES);
                        if (LogCodec.frameCrc(frame, 0, length) != crc) {
                            problem = "checksum mismatch";
                        } else {
                            try {
                                record = LogCodec.decode(frame, LogCodec.HEADER_BYTES, length);
                            } catch (IllegalArgumentException e) {
                                // the checksum matched, so this was written whole: a bug or tampering, never a torn write
                                throw new RegistryCorruptedException("log segment " + segment + " holds an undecodable record at offset "
                                        + pos + ": " + e.getMessage() + "; refusing to open (nothing was discarded)", e);
                            }
                        }
                    }
                }
                if (problem != null && newest && zeroSuffixStart(ch, pos, size) == pos) {
                    // the zeros the writer preallocated (or a write whose data never reached the disk):
                    // unused space, kept for the next records
                    LOG.debug("log segment {}: records end at offset {}, followed by {} zero bytes of preallocated space",
                            segment, pos, size - pos);
                    newestEnd[0] = pos;
                    return last;
                }
                if (problem != null) {
                    if (!newest) {
                        throw new RegistryCorruptedException("log segment " + segment + " is damaged at offset " + pos + ": " + problem
                                + " (not the newest segment); refusing to open rather than lose committed batches (nothing was discarded)");
                    }
                    long following = recordAfter(ch, pos + 1, size, last);
                    if (following >= 0) {
                        // not a torn write alone: records after it were written too, and may have been acknowledged
                        long[] followers = followingRecords(ch, following, size);
                        String sequences = "sequences " + followers[1] + ".." + followers[2];
                        if (!truncateDamagedTail) {
                            throw new RegistryCorruptedException("log segment " + segment + " is damaged at offset " + pos + ": " + problem
                                    + ", and valid records follow it (from offset " + following + ", " + sequences + ")"
                                    + "; refusing to open rather than lose committed batches (nothing was discarded). To drop them,"
                                    + " copy the directory, then open with " + EmbeddedOptions.TRUNCATE_DAMAGED_TAIL.name() + "=true:"
                                    + " that drops every batch from offset " + pos + " on (after sequence " + last + "),"
                                    + " including the readable ones that follow (" + sequences + ")");
                        }
                        LOG.warn("log segment {} is damaged at offset {} ({}), and valid records follow it (from offset {}: {} readable"
                                + " record(s), {}); {}=true: dropping the {} bytes from there to the end of the file, i.e. every batch"
                                + " after sequence {} that they held. Those following records were readable: they are dropped by the"
                                + " operator's choice, acknowledged or not", segment, pos, problem, following, followers[0], sequences,
                                EmbeddedOptions.TRUNCATE_DAMAGED_TAIL.name(), size - pos, last);
                        ch.truncate(pos);
                        ch.force(true);
                        newestEnd[0] = pos;
                        return last;
                    }
                    Tail tail = classifyTail(ch, pos, size);
                    long dropped = size - pos;
                    if (tail.torn()) {
                        LOG.warn("log segment {}: torn record at offset {} ({}); truncating the {} bytes from there, after sequence {}: "
                                + "a torn write (a crash during the write) or damage; if it had been acknowledged, it is lost",
                                segment, pos, tail.what(), dropped, last);
                    } else if (truncateDamagedTail) {
                        LOG.warn("log segment {} is damaged at offset {} ({}); {}=true: dropping the {} bytes from there to the end"
                                + " of the file, i.e. every batch after sequence {} that they held ({}; damaged bytes may have held more)",
                                segment, pos, tail.what(), EmbeddedOptions.TRUNCATE_DAMAGED_TAIL.name(), dropped, last,
                                claimedSequences(ch, pos, size));
                    } else {
                        throw new RegistryCorruptedException("log segment " + segment + " is damaged at offset " + pos + ": " + tail.what()
                                + ". A crash cannot leave that (docs/embedded-backend.md, \"Failure model\"), so the " + dropped
                                + " bytes from there to the end of the file may hold acknowledged batches (any batch after sequence " + last
                                + "); refusing to open (nothing was discarded). To drop them, open with "
                                + EmbeddedOptions.TRUNCATE_DAMAGED_TAIL.name() + "=true");
                    }
                    ch.truncate(pos);
                    ch.force(true);
                    newestEnd[0] = pos;
                    return last;
                }
                if (record.sequence() != last + 1) {
                    throw new RegistryCorruptedException("log segment " + segment + " at offset " + pos + " holds sequence "
                            + record.sequence() + " where " + (last + 1) + " was expected" + (record.sequence() > last
                            ? "; batches " + (last + 1) + ".." + (record.sequence() - 1) + " are missing"
                            : "; sequence " + record.sequence() + " was already read") + " (refusing to open, nothing was discarded)");
                }
                sink.accept(record);
                last = record.sequence();
                pos += LogCodec.HEADER_BYTES + length;
            }
            if (newest) {
                newestEnd[0] = pos;
            }
            return last;
        }
    }

    /** What the end of the newest segment from the first unreadable record on is. */
    record Tail(boolean torn, String what) {
    }

    /**
     * Classifies the bytes from {@code pos} (the first record that cannot be read, nothing valid
     * after it) to the end of the file. Torn: the file ends inside the record (a process crash
     * leaves that, a power loss too); every byte from {@code pos} on is zero (the size reached the
     * disk, the data did not); or the record is intact up to a sector boundary inside it and zero
     * from there to the end of the file. Anything else is damage: a crash writes our marker and
     * length, and writes a sector whole or not at all.
     */
    static Tail classifyTail(FileChannel ch, long pos, long size) throws IOException {
        long zeroFrom = zeroSuffixStart(ch, pos, size);
        if (zeroFrom == pos) {
            return new Tail(true, "all " + (size - pos) + " bytes from there to the end of the file are zero");
        }
        int present = (int) Math.min(LogCodec.HEADER_BYTES, size - pos);
        ByteBuffer hb = ByteBuffer.allocate(present);
        readFully(ch, hb, pos);
        byte[] h = hb.array();
        // a crash that stopped at a sector (or page) boundary inside the header: its marker, or the
        // marker and the length's high bytes, then zeros, which preallocated space runs on to the end
        long cut = (zeroFrom + SECTOR_BYTES - 1) / SECTOR_BYTES * SECTOR_BYTES;
        int kept = (int) Math.min(Integer.MAX_VALUE, cut - pos);
        if (kept > 0 && kept < 8 && kept < present && headerPrefix(h, kept)) {
            return new Tail(true, "its header is cut at offset " + cut + " (a " + SECTOR_BYTES + "-byte boundary) after " + kept
                    + " of its bytes, and every byte from there to the end of the file is zero: the sectors from there were not written");
        }
        for (int i = 0; i < Math.min(4, present); i++) {
            if (h[i] != (byte) (LogCodec.MAGIC >>> (24 - 8 * i))) {
                return new Tail(false, "bad record marker " + hex(h, Math.min(4, present)));
            }
        }
        if (present < LogCodec.HEADER_BYTES) {
            return new Tail(true, "the file ends inside the record, " + present + " bytes into its " + LogCodec.HEADER_BYTES + "-byte header");
        }
        int length = LogCodec.readInt(h, 4);
        if (length < 9 || length > LogCodec.MAX_RECORD_BYTES) {
            return new Tail(false, "impossible record length " + length);
        }
        long frameEnd = pos + LogCodec.HEADER_BYTES + length;
        int actual = lengthThatMatches(ch, pos, zeroFrom, size, length, LogCodec.readInt(h, 8));
        if (actual > 0) {
            // preallocated zeros usually follow the last record, so its real end is where they start, not the file's
            return new Tail(false, "the length field says " + length + " bytes" + (frameEnd > size ? ", which reaches past the end of"
                    + " the file," : "") + " but the " + actual + " bytes after the header form a record whose checksum matches:"
                    + " the length field is damaged");
        }
        if (frameEnd > size) {
            return new Tail(true, "the file ends inside the record, after " + (size - pos) + " of its "
                    + (LogCodec.HEADER_BYTES + length) + " bytes");
        }
        String complete = "a complete record of " + (LogCodec.HEADER_BYTES + length) + " bytes whose checksum does not match";
        if (zeroFrom == size) {
            return new Tail(false, complete + (frameEnd < size ? ", followed by " + (size - frameEnd) + " bytes that are not a record" : ""));
        }
        long boundary = (zeroFrom + SECTOR_BYTES - 1) / SECTOR_BYTES * SECTOR_BYTES;
        if (boundary < frameEnd && boundary - zeroFrom <= MAX_OWN_ZERO_BYTES) {
            return new Tail(true, "its bytes from offset " + boundary + " (a " + SECTOR_BYTES + "-byte boundary) to the end of the file are"
                    + " zero: the sectors from there were not written");
        }
        return new Tail(false, complete + ", zero from offset " + zeroFrom + " to the end of the file" + (boundary < frameEnd
                ? ": that starts " + (boundary - zeroFrom) + " bytes before the " + SECTOR_BYTES + "-byte boundary at offset " + boundary
                + ", more than the " + MAX_OWN_ZERO_BYTES + " zero bytes of a record's own that a sector lost there explains"
                : ": no " + SECTOR_BYTES + "-byte boundary lies between there and the record's end (offset " + frameEnd
                + "), so no sector that was not written explains it"));
    }

    /**
     * Whether the first {@code kept} bytes of {@code h} (fewer than the marker and length) are those
     * of a record header: the marker's, then the high bytes of a length no record exceeds.
     */
    private static boolean headerPrefix(byte[] h, int kept) {
        for (int i = 0; i < Math.min(4, kept); i++) {
            if (h[i] != (byte) (LogCodec.MAGIC >>> (24 - 8 * i))) {
                return false;
            }
        }
        long least = 0; // the length with its unwritten low bytes zero
        for (int i = 4; i < 8; i++) {
            least = least << 8 | (i < kept ? h[i] & 0xff : 0);
        }
        return least <= LogCodec.MAX_RECORD_BYTES;
    }

    /** The offset after the last non-zero byte in [pos, size), or pos when all are zero. */
    private static long zeroSuffixStart(FileChannel ch, long pos, long size) throws IOException {
        int chunk = 1 << 16;
        ByteBuffer buf = ByteBuffer.allocate(chunk);
        long end = size;
        while (end > pos) {
            long start = Math.max(pos, end - chunk);
            buf.clear();
            buf.limit((int) (end - start));
            readFully(ch, buf, start);
            byte[] b = buf.array();
            for (int i = (int) (end - start) - 1; i >= 0; i--) {
                if (b[i] != 0) {
                    return start + i + 1;
                }
            }
            end = start;
        }
        return pos;
    }

    /**
     * Another length than the stored one with which the record at {@code pos} passes its checksum, or 0: one that ends
     * at the end of the file, or where the zeros after it start (give or take the zero bytes a record may end with).
     */
    private static int lengthThatMatches(FileChannel ch, long pos, long zeroFrom, long size, int stored, int storedCrc)
            throws IOException {
        java.util.Set<Long> ends = new java.util.LinkedHashSet<>();
        ends.add(size);
        for (long end = zeroFrom; end <= Math.min(size, zeroFrom + MAX_OWN_ZERO_BYTES); end++) {
            ends.add(end);
        }
        for (long end : ends) {
            long candidate = end - pos - LogCodec.HEADER_BYTES;
            if (candidate >= 9 && candidate != stored && candidate <= LogCodec.MAX_RECORD_BYTES
                    && crcMatchesWithLength(ch, pos, (int) candidate, storedCrc)) {
                return (int) candidate;
            }
        }
        return 0;
    }

    /** Whether the stored checksum at {@code pos} matches the frame it would be with {@code length} in its length field. */
    private static boolean crcMatchesWithLength(FileChannel ch, long pos, int length, int storedCrc) throws IOException {
        if (length > LogCodec.MAX_RECORD_BYTES) {
            return false;
        }
        byte[] frame = new byte[LogCodec.HEADER_BYTES + length];
        readFully(ch, ByteBuffer.wrap(frame, LogCodec.HEADER_BYTES, length), pos + LogCodec.HEADER_BYTES);
        LogCodec.writeInt(frame, 4, length);
        return LogCodec.frameCrc(frame, 0, length) == storedCrc;
    }

    /**
     * The sequences named by the record headers that can be followed from {@code pos} (marker and
     * length intact, payload present), for the warning about what {@code truncateDamagedTail} drops.
     */
    private static String claimedSequences(FileChannel ch, long pos, long size) throws IOException {
        long[] h = readableHeaders(ch, pos, size);
        return h[0] == 0 ? "no readable record header in them"
                : h[0] + " readable record header(s) in them, naming sequences " + h[1] + ".." + h[2];
    }

    /** How many record headers can be followed from {@code pos}, and the first and last sequence they name. */
    private static long[] readableHeaders(FileChannel ch, long pos, long size) throws IOException {
        long first = -1;
        long lastSeen = -1;
        int frames = 0;
        long at = pos;
        ByteBuffer hb = ByteBuffer.allocate(LogCodec.HEADER_BYTES + 9);
        while (size - at >= LogCodec.HEADER_BYTES + 9) {
            hb.clear();
            readFully(ch, hb, at);
            byte[] h = hb.array();
            int length = LogCodec.readInt(h, 4);
            if (LogCodec.readInt(h, 0) != LogCodec.MAGIC || length < 9 || length > LogCodec.MAX_RECORD_BYTES
                    || size - at - LogCodec.HEADER_BYTES < length) {
                break;
            }
            long sequence = ByteBuffer.wrap(h, LogCodec.HEADER_BYTES + 1, 8).getLong();
            if (first < 0) {
                first = sequence;
            }
            lastSeen = sequence;
            frames++;
            at += LogCodec.HEADER_BYTES + length;
        }
        return new long[] {frames, first, lastSeen};
    }

    /**
     * The valid records from {@code from} (where {@link #recordAfter} found the first) on, each found by
     * {@link #recordAfter} after the end of the one before with a later sequence, past any bad record
     * between them: how many, and the first and last sequence (as their headers name them), for the
     * refusal and the warning about what {@code truncateDamagedTail} drops.
     */
    private static long[] followingRecords(FileChannel ch, long from, long size) throws IOException {
        long first = -1;
        long lastSeen = -1;
        int records = 0;
        ByteBuffer hb = ByteBuffer.allocate(LogCodec.HEADER_BYTES + 9);
        for (long at = from; at >= 0; ) {
            long sequence = validFrameSequence(ch, at, size); // after the one before: recordAfter checked it
            hb.clear();
            readFully(ch, hb, at);
            long named = ByteBuffer.wrap(hb.array(), LogCodec.HEADER_BYTES + 1, 8).getLong();
            if (first < 0) {
                first = named;
            }
            lastSeen = named;
            records++;
            if (sequence == Long.MAX_VALUE) {
                break; // does not decode: no later sequence to look for
            }
            long next = at + LogCodec.HEADER_BYTES + LogCodec.readInt(hb.array(), 4);
            // the next record usually starts right there: a scan (a megabyte read per record) only past a bad one
            at = startsRecordAfter(ch, next, size, sequence) ? next : recordAfter(ch, next, size, sequence);
        }
        return new long[] {records, first, lastSeen};
    }

    /** Whether a valid frame with our marker and a sequence after {@code last} starts at {@code at}. */
    private static boolean startsRecordAfter(FileChannel ch, long at, long size, long last) throws IOException {
        if (size - at < LogCodec.HEADER_BYTES) {
            return false;
        }
        ByteBuffer marker = ByteBuffer.allocate(4);
        readFully(ch, marker, at);
        return LogCodec.readInt(marker.array(), 0) == LogCodec.MAGIC && validFrameSequence(ch, at, size) > last;
    }

    private static String hex(byte[] b, int n) {
        StringBuilder sb = new StringBuilder("0x");
        for (int i = 0; i < n; i++) {
            sb.append(String.format("%02x", b[i] & 0xff));
        }
        return sb.toString();
    }

    /**
     * Where the first record after a bad one starts in [from, size), or -1: a frame with our marker, a
     * plausible length and a matching checksum that decodes to a sequence after {@code last}. Real
     * records that follow a damaged one always carry later sequences; a frame with an earlier one is a
     * copy of log bytes held inside a value (a backup of a segment stored as a BINARY value), which a
     * torn write may end after, and is not a following record.
     */
    private static long recordAfter(FileChannel ch, long from, long size, long last) throws IOException {
        int chunk = 1 << 20;
        ByteBuffer buf = ByteBuffer.allocate(chunk + 3);
        byte m0 = (byte) (LogCodec.MAGIC >>> 24);
        for (long start = from; start < size; start += chunk) {
            buf.clear();
            buf.limit((int) Math.min(chunk + 3, size - start));
            readFully(ch, buf, start);
            byte[] b = buf.array();
            int n = Math.min(chunk, buf.limit());
            for (int i = 0; i < n; i++) {
                if (b[i] == m0 && i + 4 <= buf.limit() && LogCodec.readInt(b, i) == LogCodec.MAGIC) {
                    long sequence = validFrameSequence(ch, start + i, size);
                    if (sequence > last) {
                        return start + i;
                    }
                }
            }
        }
        return -1;
    }

    /**
     * The sequence of the frame at {@code at}; -1 when its length or checksum is not that of a record;
     * {@code Long.MAX_VALUE} when its checksum matches but it does not decode (written whole, so it
     * counts as a following record: better a refusal than a silent cut).
     */
    private static long validFrameSequence(FileChannel ch, long at, long size) throws IOException {
        if (size - at < LogCodec.HEADER_BYTES) {
            return -1;
        }
        ByteBuffer header = ByteBuffer.allocate(LogCodec.HEADER_BYTES);
        readFully(ch, header, at);
        int length = LogCodec.readInt(header.array(), 4);
        if (length < 9 || length > LogCodec.MAX_RECORD_BYTES || size - at - LogCodec.HEADER_BYTES < length) {
            return -1;
        }
        byte[] frame = new byte[LogCodec.HEADER_BYTES + length];
        System.arraycopy(header.array(), 0, frame, 0, LogCodec.HEADER_BYTES);
        readFully(ch, ByteBuffer.wrap(frame, LogCodec.HEADER_BYTES, length), at + LogCodec.HEADER_BYTES);
        if (LogCodec.frameCrc(frame, 0, length) != LogCodec.readInt(frame, 8)) {
            return -1;
        }
        try {
            return LogCodec.decode(frame, LogCodec.HEADER_BYTES, length).sequence();
        } catch (IllegalArgumentException e) {
            return Long.MAX_VALUE;
        }
    }

    /** Positional reads until {@code b} is full (FeedHistory reads retained segments the same way). */
    static void readFully(FileChannel ch, ByteBuffer b, long position) throws IOException {
        long p = position;
        while (b.hasRemaining()) {
            int n = ch.read(b, p);
            if (n < 0) {
                throw new IOException("unexpected end of file at " + p);
            }
            p += n;
        }
    }
}
