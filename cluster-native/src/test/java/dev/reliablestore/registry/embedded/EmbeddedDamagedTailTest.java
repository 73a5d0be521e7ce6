package dev.reliablestore.registry.embedded;

import dev.reliablestore.registry.RegistryArgumentException;
import dev.reliablestore.registry.RegistryCorruptedException;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.WriteBatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The end of the newest log segment: what a crash can leave there is truncated as a torn write,
 * anything else refuses to open unless {@code truncateDamagedTail=true} (docs/embedded-backend.md,
 * "Failure model"). Every record written here ends in non-zero bytes, so where zeros start is
 * decided by each test alone.
 */
class EmbeddedDamagedTailTest {

    private static final Map<String, String> TRUNCATE = Map.of("truncateDamagedTail", "true");

    @TempDir
    Path dir;

    private final List<EmbeddedRegistry> opened = new ArrayList<>();

    @AfterEach
    void closeAll() {
        opened.forEach(EmbeddedRegistry::close);
    }

    // ---- damage: refused by default, dropped with the option ---------------------------------------

    /** Ten records of 300 bytes, the last one's byte 100 flipped: the segment, its bytes now, and where the last record starts. */
    private record Damaged(Path segment, byte[] bytes, long last) {
    }

    private Damaged flippedInTheLastRecord() throws Exception {
        Path segment = writeRecords(10, 300);
        long last = lastRecordOffset(segment);
        byte[] bytes = Files.readAllBytes(segment);
        bytes[(int) last + 100] ^= 0x01;
        Files.write(segment, bytes);
        return new Damaged(segment, bytes, last);
    }

    @Test
    void aFlippedByteInTheLastCompleteRecordRefusesToOpen() throws Exception {
        Damaged d = flippedInTheLastRecord();
        Path segment = d.segment();
        long last = d.last();
        byte[] bytes = d.bytes();
        assertThatThrownBy(this::open).isInstanceOf(RegistryCorruptedException.class)
                .hasMessageContaining(segment.toString())
                .hasMessageContaining("offset " + last)
                .hasMessageContaining("complete record")
                .hasMessageContaining("checksum")
                .hasMessageContaining("after sequence 9")
                .hasMessageContaining("truncateDamagedTail=true")
                .hasMessageContaining("nothing was discarded");
        assertThat(Files.readAllBytes(segment)).as("files untouched").isEqualTo(bytes);
    }

    /**
     * A refused open leaves every file as it was, the temporary files a crash left included: a complete snapshot
     * .tmp (crashed between its fsync and its rename) may be what recovers the damaged batches by hand.
     */
    @Test
    void aRefusedOpenLeavesTheTemporaryFilesToo() throws Exception {
        flippedInTheLastRecord();
        Path leftover = Files.write(dir.resolve("snapshot-00000000000000000010.tmp"), new byte[] {1, 2, 3});
        assertThatThrownBy(this::open).isInstanceOf(RegistryCorruptedException.class);
        assertThat(leftover).as("files untouched").exists();
        open(TRUNCATE);
        assertThat(leftover).as("removed once the directory was read").doesNotExist();
    }

    @Test
    void aFlippedByteInTheLastCompleteRecordIsDroppedOnlyWithTheOptionAndLogged() throws Exception {
        Path segment = writeRecords(10, 300);
        long last = lastRecordOffset(segment);
        long size = Files.size(segment);
        byte[] bytes = Files.readAllBytes(segment);
        bytes[(int) last + 100] ^= 0x01;
        Files.write(segment, bytes);
        String log = StderrCapture.capturing(() -> {
            EmbeddedRegistry r = open(TRUNCATE);
            assertThat(r.currentSequence()).isEqualTo(9);
            assertThat(r.keyExists(key(9))).isTrue();
            assertThat(r.keyExists(key(10))).isFalse();
        });
        assertThat(log).contains("WARN").contains(segment.toString()).contains("truncateDamagedTail=true")
                .contains("offset " + last).contains((size - last) + " bytes").contains("after sequence 9")
                .contains("sequences 10..10");
        assertThat(Files.size(segment)).isEqualTo(last);
    }

    /** The report's second case: the last 600 bytes zeroed, from the middle of a sector of a complete record. */
    @Test
    void zeroedLastBytesFromTheMiddleOfASectorRefuseToOpenAndTheOptionDropsThem() throws Exception {
        EmbeddedRegistry r = open();
        int n = 0;
        Path segment = onlySegment();
        long zeroFrom;
        do {
            put(r, ++n, 300);
            zeroFrom = r.segmentBytes() - 600; // the file is longer: preallocated zeros follow the records
        } while (n < 4 || !fromTheMiddleOfASector(zeroFrom) || isRecordStart(segment, zeroFrom)
                || Files.readAllBytes(segment)[(int) zeroFrom - 1] == 0);
        closeOpened();
        long damaged = recordStartContaining(segment, zeroFrom);
        long goodUpTo = sequenceBefore(segment, damaged);
        byte[] bytes = Files.readAllBytes(segment);
        Arrays.fill(bytes, (int) zeroFrom, bytes.length, (byte) 0);
        Files.write(segment, bytes);
        assertThatThrownBy(this::open).isInstanceOf(RegistryCorruptedException.class)
                .hasMessageContaining(segment.toString())
                .hasMessageContaining("offset " + damaged)
                .hasMessageContaining("zero from offset " + zeroFrom)
                .hasMessageContaining("truncateDamagedTail=true");
        assertThat(Files.readAllBytes(segment)).isEqualTo(bytes);
        String log = StderrCapture.capturing(() -> assertThat(open(TRUNCATE).currentSequence()).isEqualTo(goodUpTo));
        assertThat(log).contains("truncateDamagedTail=true").contains("after sequence " + goodUpTo)
                .contains((bytes.length - damaged) + " bytes");
    }

    /** A damaged length that points past the end of the file is not taken for a record cut short. */
    @Test
    void aDamagedLengthInTheLastRecordRefusesToOpen() throws Exception {
        Path segment = writeRecords(5, 300);
        long last = lastRecordOffset(segment);
        byte[] bytes = Files.readAllBytes(segment);
        LogCodec.writeInt(bytes, (int) last + 4, LogCodec.readInt(bytes, (int) last + 4) + 1000);
        Files.write(segment, bytes);
        assertThatThrownBy(this::open).isInstanceOf(RegistryCorruptedException.class)
                .hasMessageContaining("offset " + last).hasMessageContaining("length field");
    }

    /** Preallocated zeros follow the last record after a crash: its real end is where they start, not the end of the file. */
    @Test
    void aDamagedLengthInTheLastRecordBeforePreallocatedZerosRefusesToOpen() throws Exception {
        Path segment = writeRecords(5, 300);
        long last = lastRecordOffset(segment);
        Files.write(segment, new byte[1 << 20], java.nio.file.StandardOpenOption.APPEND);
        byte[] bytes = Files.readAllBytes(segment);
        LogCodec.writeInt(bytes, (int) last + 4, LogCodec.readInt(bytes, (int) last + 4) + (2 << 20)); // past the end of the file
        Files.write(segment, bytes);
        assertThatThrownBy(this::open).isInstanceOf(RegistryCorruptedException.class)
                .hasMessageContaining("offset " + last).hasMessageContaining("length field");
    }

    /** The damaged length stays inside the zeros, and the record ends on a 512-byte boundary (rule 3 alone would call it torn). */
    @Test
    void aDamagedLengthReachingIntoTheZerosAfterARecordEndingOnASectorBoundaryRefusesToOpen() throws Exception {
        long overhead = Files.size(writeRecords(1, 300)) - 300;
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.delete(f);
            }
        }
        Path segment = writeRecords(1, (int) (1024 - overhead));
        assertThat(Files.size(segment)).isEqualTo(1024);
        Files.write(segment, new byte[1 << 20], java.nio.file.StandardOpenOption.APPEND);
        byte[] bytes = Files.readAllBytes(segment);
        LogCodec.writeInt(bytes, 4, LogCodec.readInt(bytes, 4) + 100);
        Files.write(segment, bytes);
        assertThatThrownBy(this::open).isInstanceOf(RegistryCorruptedException.class)
                .hasMessageContaining("offset 0").hasMessageContaining("length field");
    }

    // ---- torn writes: truncated with or without the option -----------------------------------------

    @Test
    void aRecordCutShortIsTornAndTruncatedWithATrueWarning() throws Exception {
        Path segment = writeRecords(5, 300);
        long last = lastRecordOffset(segment);
        long size = Files.size(segment);
        truncate(segment, size - 100); // a crash during the append
        String log = StderrCapture.capturing(() -> {
            EmbeddedRegistry r = open();
            assertThat(r.currentSequence()).isEqualTo(4);
            assertThat(r.keyExists(key(5))).isFalse();
        });
        assertThat(log).contains("WARN").contains(segment.toString()).contains("torn record at offset " + last)
                .contains("the file ends inside the record").contains("after sequence 4")
                .contains("if it had been acknowledged, it is lost").doesNotContain("never acknowledged");
        assertThat(Files.size(segment)).isEqualTo(last);
    }

    /** A power loss: the file's size reached the disk, a later sector of the append did not (it reads as zeros). */
    @Test
    void aRecordZeroFromASectorBoundaryIsTorn() throws Exception {
        EmbeddedRegistry r = open();
        put(r, 1, 300);
        put(r, 2, 2000);
        closeOpened();
        Path segment = onlySegment();
        long last = lastRecordOffset(segment);
        long boundary = (last / 512 + 2) * 512; // inside the 2000-byte record
        byte[] bytes = Files.readAllBytes(segment);
        assertThat(bytes[(int) boundary - 1]).as("written up to the boundary").isNotZero();
        Arrays.fill(bytes, (int) boundary, bytes.length, (byte) 0);
        Files.write(segment, bytes);
        String log = StderrCapture.capturing(() -> assertThat(open().currentSequence()).isEqualTo(1));
        assertThat(log).contains("torn record at offset " + last).contains("512-byte boundary");
    }

    /**
     * A crash whose write stopped at a sector (or page) boundary inside a record's header: the
     * header's first bytes, then zeros to the end of the preallocated file. For every cut inside
     * the marker and the length, the record is torn, not damage, and the batches before it stay.
     */
    @Test
    void aRecordWhoseHeaderIsCutAtASectorBoundaryIsTorn() throws Exception {
        Path base = dir;
        for (int kept = 1; kept < 8; kept++) {
            dir = base.resolve("kept-" + kept); // a registry of its own per cut
            EmbeddedRegistry r = open();
            put(r, 1, 300);
            long afterFirst = r.segmentBytes();
            put(r, 2, 300);
            long overhead = r.segmentBytes() - afterFirst - 300; // a record's bytes beside its value: the same for k/1..k/4
            long start = r.segmentBytes();
            long boundary = (start + overhead + 1 + kept + 511) / 512 * 512;
            put(r, 3, (int) (boundary - kept - start - overhead)); // ends where the next record's header meets the boundary
            assertThat(r.segmentBytes()).as("kept " + kept).isEqualTo(boundary - kept);
            put(r, 4, 300);
            closeOpened();
            Path segment = onlySegment();
            byte[] bytes = Arrays.copyOf(Files.readAllBytes(segment), (int) boundary + 700); // and preallocated zeros after it
            Arrays.fill(bytes, (int) boundary, bytes.length, (byte) 0);
            Files.write(segment, bytes);
            String log = StderrCapture.capturing(() -> assertThat(open().currentSequence()).isEqualTo(3));
            assertThat(log).as("kept " + kept).contains("torn record at offset " + (boundary - kept)).contains("header is cut");
        }
    }

    /**
     * Zeros after the last record are the space the writer preallocated (or a size update whose data
     * never reached the disk): kept without a warning, and the next record overwrites them.
     */
    @Test
    void zerosAfterTheLastRecordAreUnusedSpaceNotATornRecord() throws Exception {
        Path segment = writeRecords(3, 300);
        long size = Files.size(segment);
        Files.write(segment, new byte[700], java.nio.file.StandardOpenOption.APPEND);
        String log = StderrCapture.capturing(() -> {
            EmbeddedRegistry r = open();
            assertThat(r.currentSequence()).isEqualTo(3);
            assertThat(r.segmentBytes()).isEqualTo(size);
            put(r, 4, 300);
            assertThat(r.segmentBytes()).isGreaterThan(size);
        });
        assertThat(log).doesNotContain("torn").doesNotContain("WARN");
        closeOpened();
        assertThat(recordStarts(segment)).hasSize(4).startsWith(0L).contains(size);
        assertThat(open().currentSequence()).isEqualTo(4);
    }

    // ---- damage with valid records after it ---------------------------------------------------------

    /**
     * A group-commit flush held records 4 and 5; a power loss kept record 5's sectors and not record
     * 4's (zeros), or record 4 is garbage: valid records follow the bad one. Refused by default, with
     * a message saying how to drop them; {@code truncateDamagedTail=true} drops record 4 and every
     * record after it, the readable ones too, and says so.
     */
    @Test
    void aDamagedRecordWithValidRecordsAfterItInTheNewestSegmentIsDroppedOnlyWithTheOption() throws Exception {
        Path base = dir;
        for (String damage : List.of("zeroed", "flipped")) {
            dir = base.resolve(damage); // a registry of its own per kind of damage
            Path segment = writeRecords(5, 300);
            List<Long> starts = recordStarts(segment);
            long fourth = starts.get(3);
            long size = Files.size(segment);
            byte[] bytes = Files.readAllBytes(segment);
            if (damage.equals("zeroed")) {
                Arrays.fill(bytes, (int) fourth, starts.get(4).intValue(), (byte) 0);
            } else {
                bytes[(int) fourth + 100] ^= 0x01;
            }
            Files.write(segment, bytes);
            assertThatThrownBy(this::open).as(damage).isInstanceOf(RegistryCorruptedException.class)
                    .hasMessageContaining(segment.toString())
                    .hasMessageContaining("offset " + fourth)
                    .hasMessageContaining("valid records follow it")
                    .hasMessageContaining("nothing was discarded")
                    .hasMessageContaining("truncateDamagedTail=true")
                    .hasMessageContaining("sequences 5..5");
            assertThat(Files.readAllBytes(segment)).as("files untouched").isEqualTo(bytes);
            String log = StderrCapture.capturing(() -> {
                EmbeddedRegistry r = open(TRUNCATE);
                assertThat(r.currentSequence()).isEqualTo(3);
                assertThat(r.keyExists(key(3))).isTrue();
                assertThat(r.keyExists(key(4))).isFalse();
                assertThat(r.keyExists(key(5))).isFalse();
            });
            assertThat(log).as(damage).contains("WARN").contains(segment.toString()).contains("truncateDamagedTail=true")
                    .contains("offset " + fourth).contains((size - fourth) + " bytes").contains("after sequence 3")
                    .contains("readable").contains("sequences 5..5");
            assertThat(Files.size(segment)).isEqualTo(fourth);
            closeOpened();
            assertThat(open().currentSequence()).as("the next open finds nothing to drop").isEqualTo(3);
            closeOpened();
        }
    }

    /**
     * Records 4 and 6 zeroed, 5 and 7 intact (sectors of a flush that reached the disk out of order): both
     * readable records after the bad one are named, 7 too, although a bad record lies between them.
     */
    @Test
    void everyReadableRecordAfterTheBadOneIsNamedAlsoPastAnotherBadOne() throws Exception {
        Path segment = writeRecords(7, 300);
        List<Long> starts = recordStarts(segment);
        long fourth = starts.get(3);
        byte[] bytes = Files.readAllBytes(segment);
        Arrays.fill(bytes, (int) fourth, starts.get(4).intValue(), (byte) 0);
        Arrays.fill(bytes, starts.get(5).intValue(), starts.get(6).intValue(), (byte) 0);
        Files.write(segment, bytes);
        assertThatThrownBy(this::open).isInstanceOf(RegistryCorruptedException.class)
                .hasMessageContaining("offset " + fourth)
                .hasMessageContaining("valid records follow it")
                .hasMessageContaining("sequences 5..7");
        String log = StderrCapture.capturing(() -> {
            EmbeddedRegistry r = open(TRUNCATE);
            assertThat(r.currentSequence()).isEqualTo(3);
            assertThat(r.keyExists(key(7))).isFalse();
        });
        assertThat(log).contains("WARN").contains("offset " + fourth).contains("2 readable record(s)").contains("sequences 5..7");
        assertThat(Files.size(segment)).isEqualTo(fourth);
    }

    /**
     * A BINARY value holding a copy of log bytes (a frame of sequence 1, already read) whose batch a
     * {@code kill -9} tore after that copy: a torn write, not a damaged record with valid records after it.
     */
    @Test
    void aFrameHeldInATornRecordsValueIsNotTakenForAFollowingRecord() throws Exception {
        Path segment = writeRecords(3, 300);
        byte[] firstRecord;
        {
            byte[] b = Files.readAllBytes(segment);
            firstRecord = Arrays.copyOf(b, LogCodec.HEADER_BYTES + LogCodec.readInt(b, 4));
        }
        byte[] value = new byte[firstRecord.length + 300];
        Arrays.fill(value, (byte) 0x5a);
        System.arraycopy(firstRecord, 0, value, 0, firstRecord.length);
        EmbeddedRegistry r = open();
        r.commit(WriteBatch.builder().setValue(key(4), "v", RegistryValue.binary(value)).build());
        closeOpened();
        long fourth = lastRecordOffset(segment);
        byte[] bytes = Files.readAllBytes(segment);
        int copyAt = indexOf(bytes, firstRecord, (int) fourth + 1);
        assertThat(copyAt).as("the frame is in the fourth record").isGreaterThan((int) fourth);
        long cut = copyAt + firstRecord.length + 100; // inside the value's 0x5a bytes after the copy
        assertThat(cut).isLessThan(bytes.length);
        truncate(segment, cut); // a crash during the append
        String log = StderrCapture.capturing(() -> {
            EmbeddedRegistry again = open();
            assertThat(again.currentSequence()).isEqualTo(3);
            assertThat(again.keyExists(key(3))).isTrue();
            assertThat(again.keyExists(key(4))).isFalse();
        });
        assertThat(log).contains("WARN").contains("torn record at offset " + fourth).contains("the file ends inside the record")
                .contains("after sequence 3");
        assertThat(Files.size(segment)).isEqualTo(fourth);
    }

    /** Damage in a segment before the newest is refused even with the option: nothing there can be a torn write. */
    @Test
    void aDamagedRecordInAnOlderSegmentRefusesToOpenEvenWithTheOption() throws Exception {
        Path segment = writeRecords(5, 300);
        List<Long> starts = recordStarts(segment);
        byte[] all = Files.readAllBytes(segment);
        int split = starts.get(3).intValue();
        Path newer = WriteAheadLog.segmentPath(dir, 4);
        Files.write(newer, Arrays.copyOfRange(all, split, all.length)); // sequences 4..5
        truncate(segment, split); // sequences 1..3
        assertThat(open().currentSequence()).as("split intact").isEqualTo(5);
        closeOpened();
        byte[] older = Files.readAllBytes(segment);
        older[starts.get(1).intValue() + 100] ^= 0x01; // inside sequence 2
        Files.write(segment, older);
        byte[] newest = Files.readAllBytes(newer);
        assertThatThrownBy(() -> open(TRUNCATE)).isInstanceOf(RegistryCorruptedException.class)
                .hasMessageContaining(segment.toString())
                .hasMessageContaining("offset " + starts.get(1))
                .hasMessageContaining("not the newest segment")
                .hasMessageContaining("nothing was discarded");
        assertThat(Files.readAllBytes(segment)).as("files untouched").isEqualTo(older);
        assertThat(Files.readAllBytes(newer)).isEqualTo(newest);
    }

    // ---- the option ---------------------------------------------------------------------------------

    @Test
    void theOptionIsCheckedAndOffByDefault() {
        assertThat(EmbeddedOptions.parse(Map.of()).truncateDamagedTail()).isFalse();
        assertThat(EmbeddedOptions.parse(TRUNCATE).truncateDamagedTail()).isTrue();
        assertThat(EmbeddedOptions.parse(Map.of("truncateDamagedTail", "false")).truncateDamagedTail()).isFalse();
        assertThatThrownBy(() -> EmbeddedOptions.parse(Map.of("truncateDamagedTail", "yes")))
                .isInstanceOf(RegistryArgumentException.class).hasMessageContaining("\"yes\"").hasMessageContaining("true or false");
    }

    /** Positive control: an intact log opens the same with the option, and nothing is dropped. */
    @Test
    void anIntactLogLosesNothingWithTheOption() throws Exception {
        Path segment = writeRecords(5, 300);
        long size = Files.size(segment);
        assertThat(open(TRUNCATE).currentSequence()).isEqualTo(5);
        assertThat(Files.size(segment)).isEqualTo(size);
    }

    // ---- helpers ------------------------------------------------------------------------------------

    private EmbeddedRegistry open() {
        return open(Map.of());
    }

    private EmbeddedRegistry open(Map<String, String> options) {
        EmbeddedRegistry r = EmbeddedRegistry.open(dir, EmbeddedOptions.parse(options), ChannelFactory.DEFAULT);
        opened.add(r);
        return r;
    }

    private void closeOpened() {
        opened.forEach(EmbeddedRegistry::close);
        opened.clear();
    }

    private static RegistryPath key(int i) {
        return RegistryPath.parse("k/" + i);
    }

    /** One batch: a BINARY value of {@code size} bytes 0x5a, so the record ends in non-zero bytes. */
    private static void put(EmbeddedRegistry r, int i, int size) {
        byte[] v = new byte[size];
        Arrays.fill(v, (byte) 0x5a);
        r.commit(WriteBatch.builder().setValue(key(i), "v", RegistryValue.binary(v)).build());
    }

    private Path writeRecords(int count, int size) throws IOException {
        EmbeddedRegistry r = open();
        for (int i = 1; i <= count; i++) {
            put(r, i, size);
        }
        closeOpened();
        return onlySegment();
    }

    private Path onlySegment() throws IOException {
        List<Path> segments = WriteAheadLog.segments(dir);
        assertThat(segments).hasSize(1);
        return segments.get(0);
    }

    private static List<Long> recordStarts(Path segment) throws IOException {
        byte[] b = Files.readAllBytes(segment);
        List<Long> starts = new ArrayList<>();
        int pos = 0;
        while (pos + LogCodec.HEADER_BYTES <= b.length) {
            starts.add((long) pos);
            pos += LogCodec.HEADER_BYTES + LogCodec.readInt(b, pos + 4);
        }
        return starts;
    }

    private static long lastRecordOffset(Path segment) throws IOException {
        List<Long> starts = recordStarts(segment);
        return starts.get(starts.size() - 1);
    }

    private static boolean isRecordStart(Path segment, long offset) throws IOException {
        return recordStarts(segment).contains(offset);
    }

    private static long recordStartContaining(Path segment, long offset) throws IOException {
        long start = 0;
        for (long s : recordStarts(segment)) {
            if (s <= offset) {
                start = s;
            }
        }
        return start;
    }

    /** The sequence of the record before the one at {@code offset} (batches here are numbered from 1, one record each). */
    private static long sequenceBefore(Path segment, long offset) throws IOException {
        return recordStarts(segment).indexOf(offset);
    }

    /** Not on a 512-byte boundary, nor within the 8 bytes before one (where a record's own zero bytes may end). */
    private static boolean fromTheMiddleOfASector(long offset) {
        long toBoundary = (512 - offset % 512) % 512;
        return toBoundary > 8;
    }

    private static int indexOf(byte[] in, byte[] what, int from) {
        for (int i = from; i + what.length <= in.length; i++) {
            if (Arrays.equals(in, i, i + what.length, what, 0, what.length)) {
                return i;
            }
        }
        return -1;
    }

    private static void truncate(Path file, long size) throws IOException {
        try (var ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
            ch.truncate(size);
        }
    }

}
