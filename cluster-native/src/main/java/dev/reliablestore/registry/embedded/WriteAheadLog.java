package dev.reliablestore.registry.embedded;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The append side of the log: one open segment file ({@code wal-<first sequence>.log}) that
 * records are appended to and forced. Used by one flushing thread at a time.
 */
final class WriteAheadLog implements AutoCloseable {

    private static final Pattern SEGMENT = Pattern.compile("wal-(\\d{20})\\.log");

    private final Path dir;
    private final ChannelFactory channels;
    private FileChannel channel;
    private Path segment;
    private long segmentBytes;

    /** Continues {@code segment} at its end (recovery has truncated any torn tail). */
    WriteAheadLog(Path dir, ChannelFactory channels, Path segment) throws IOException {
        this.dir = dir;
        this.channels = channels;
        this.segment = segment;
        this.channel = channels.open(segment, StandardOpenOption.WRITE);
        this.segmentBytes = channel.size();
        channel.position(segmentBytes);
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
        syncDirectory(dir);
        return file;
    }

    /** Makes file creations, renames and deletions in {@code dir} durable. */
    static void syncDirectory(Path dir) throws IOException {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    void write(byte[] bytes, int length) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes, 0, length);
        while (b.hasRemaining()) {
            channel.write(b);
        }
        segmentBytes += length;
    }

    /**
     * Forces written records to the device. {@code force(false)} is fdatasync: on Linux it also
     * flushes the file size an append changed, which is all the metadata a reader needs.
     */
    void force() throws IOException {
        channel.force(false);
    }

    long segmentBytes() {
        return segmentBytes;
    }

    Path segment() {
        return segment;
    }

    /** Closes the current segment (already forced) and continues in a new one starting at {@code nextSequence}. */
    void rotate(long nextSequence) throws IOException {
        Path next = createSegment(dir, channels, nextSequence);
        FileChannel nextChannel = channels.open(next, StandardOpenOption.WRITE);
        FileChannel old = channel;
        channel = nextChannel;
        segment = next;
        segmentBytes = 0;
        old.close();
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
