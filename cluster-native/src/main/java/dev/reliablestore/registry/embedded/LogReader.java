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
 * Replays log segments during recovery. A damaged record is a torn tail (cut off by a crash during
 * an unacknowledged write) only if it is in the newest segment and no valid record follows it; the
 * tail is then truncated with a warning. Anything else is corruption and stops the open with
 * {@link RegistryCorruptedException} naming the file and offset, never silently dropping data.
 */
final class LogReader {

    private static final Logger LOG = LoggerFactory.getLogger(LogReader.class);

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
     * snapshot (left by a cleanup a crash interrupted) are not read.
     *
     * @param snapshot the snapshot the state was loaded from (holding {@code afterSequence}), or null
     * @return the last sequence found (or {@code afterSequence} when none)
     * @throws RegistryCorruptedException naming the files when a segment is missing or out of sequence
     */
    static long replay(List<Path> segments, Path snapshot, long afterSequence, Sink sink) throws IOException {
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
            last = replaySegment(segment, i == segments.size() - 1, last, sink);
        }
        return last;
    }

    private static String names(List<Path> files) {
        return files.stream().map(f -> f.getFileName().toString()).toList().toString();
    }

    private static long replaySegment(Path segment, boolean newest, long last, Sink sink) throws IOException {
        try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.READ, newest ? StandardOpenOption.WRITE : StandardOpenOption.READ)) {
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
                if (problem != null) {
                    if (newest && !validRecordAfter(ch, pos + 1, size)) {
                        LOG.warn("log segment {}: torn record at offset {} ({}); truncating {} bytes that were never acknowledged as durable",
                                segment, pos, problem, size - pos);
                        ch.truncate(pos);
                        ch.force(true);
                        return last;
                    }
                    throw new RegistryCorruptedException("log segment " + segment + " is damaged at offset " + pos + ": " + problem
                            + (newest ? ", and valid records follow it" : " (not the newest segment)")
                            + "; refusing to open rather than lose committed batches (nothing was discarded)");
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
            return last;
        }
    }

    /** Whether a frame with a valid marker, length and checksum starts anywhere in [from, size). */
    private static boolean validRecordAfter(FileChannel ch, long from, long size) throws IOException {
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
                if (b[i] == m0 && i + 4 <= buf.limit() && LogCodec.readInt(b, i) == LogCodec.MAGIC && frameIsValid(ch, start + i, size)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean frameIsValid(FileChannel ch, long at, long size) throws IOException {
        if (size - at < LogCodec.HEADER_BYTES) {
            return false;
        }
        ByteBuffer header = ByteBuffer.allocate(LogCodec.HEADER_BYTES);
        readFully(ch, header, at);
        int length = LogCodec.readInt(header.array(), 4);
        if (length < 9 || length > LogCodec.MAX_RECORD_BYTES || size - at - LogCodec.HEADER_BYTES < length) {
            return false;
        }
        byte[] frame = new byte[LogCodec.HEADER_BYTES + length];
        System.arraycopy(header.array(), 0, frame, 0, LogCodec.HEADER_BYTES);
        readFully(ch, ByteBuffer.wrap(frame, LogCodec.HEADER_BYTES, length), at + LogCodec.HEADER_BYTES);
        return LogCodec.frameCrc(frame, 0, length) == LogCodec.readInt(frame, 8);
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long position) throws IOException {
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
