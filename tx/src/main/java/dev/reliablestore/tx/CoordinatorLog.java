package dev.reliablestore.tx;

import dev.reliablestore.spi.DurableFiles;
import dev.reliablestore.spi.tx.TransactionId;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * The local coordinator's durable commit decisions: one small file per transaction,
 * {@code <transaction token>.commit}, written to a temporary name, fsync'ed, renamed atomically
 * and the directory fsync'ed, so after a crash a decision is either wholly there or absent.
 * Presumed abort: a transaction without a decision file is rolled back by recovery.
 */
final class CoordinatorLog {

    static final String SUFFIX = ".commit";
    static final String ID_SUFFIX = ".id";
    /** The length of a coordinator's identity, which every transaction id it creates carries. */
    static final int ID_BYTES = 8;
    private static final String HEADER = "reliablestore-coordinator-log 1";
    private static final String ID_HEADER = "reliablestore-coordinator-id 1";

    /** A participant of a decided transaction: the resource manager and its branch id. */
    record Participant(String resourceManagerId, TransactionId branch) {
    }

    /** A decision file; {@code participants} is null when the file could not be read. */
    record Decision(String transactionToken, List<Participant> participants, String problem) {
    }

    /** Makes renames and deletions in a directory durable (tests make it fail). */
    interface DirectorySync {
        void sync(Path directory) throws IOException;
    }

    private final Path directory;
    private final CoordinatorLock lock;
    private final byte[] coordinatorId;
    volatile DirectorySync directorySync = CoordinatorLog::fsyncDirectory;
    /** Runs between listing a decision file and reading it (tests finish the decision there). */
    volatile Consumer<Path> beforeReading = f -> { };

    /**
     * {@code ours} tells the tokens of this coordinator's node: several coordinators (each with its
     * own node name) may share a directory, and a decision another one is writing is not ours to
     * remove. {@code identified} tells the tokens of this node that carry a coordinator identity.
     * Holds the node's {@link CoordinatorLock} until {@link #close}.
     */
    CoordinatorLog(Path directory, String nodeName, Predicate<String> ours, Predicate<String> identified) throws IOException {
        // every missing level flushed into its parent, and its own entry too, also when it existed:
        // decisions fsynced into a directory a power loss can take are not durable
        this.directory = DurableFiles.createDirectories(directory);
        this.lock = CoordinatorLock.acquire(directory, nodeName); // before the clean-up: a live coordinator's .tmp is not stale
        boolean opened = false;
        try {
            this.coordinatorId = loadOrCreateId(nodeName, identified);
            try (DirectoryStream<Path> stale = Files.newDirectoryStream(directory, "*.tmp")) {
                for (Path p : stale) {
                    String name = p.getFileName().toString();
                    if (ours.test(name.substring(0, name.length() - ".tmp".length()))) {
                        Files.deleteIfExists(p); // a decision being written when we crashed: never took effect
                    }
                }
            }
            opened = true;
        } finally {
            if (!opened) {
                lock.release();
            }
        }
    }

    /**
     * This node's identity in this log, created with the log and kept with it: recovery finishes only
     * branches that carry it, so a coordinator of the same node name with another log (another
     * process, another machine) never presumes abort for this one's prepared branches.
     */
    byte[] coordinatorId() {
        return coordinatorId.clone();
    }

    private byte[] loadOrCreateId(String nodeName, Predicate<String> identified) throws IOException {
        Path file = directory.resolve(nodeName + ID_SUFFIX);
        try {
            List<String> lines = Files.readAllLines(file, StandardCharsets.US_ASCII);
            if (lines.size() == 2 && lines.get(0).equals(ID_HEADER) && lines.get(1).matches("[0-9a-f]{" + 2 * ID_BYTES + "}")) {
                // a start that crashed after the rename may not have flushed it into the directory yet
                DurableFiles.syncDirectory(directory);
                return HexFormat.of().parseHex(lines.get(1));
            }
            throw new IOException("the coordinator identity file " + file + " is damaged (expected the line \"" + ID_HEADER
                    + "\" and a line of " + 2 * ID_BYTES + " hex digits); the prepared branches this coordinator left can only be"
                    + " recovered with it: restore it from a copy of the log directory");
        } catch (NoSuchFileException absent) {
            // a new log, or one written before identities (its decisions name transactions without one);
            // but decisions that carry an identity mean the file was lost, and a new identity would strand their branches
            try (DirectoryStream<Path> files = Files.newDirectoryStream(directory, "*" + SUFFIX)) {
                for (Path f : files) {
                    String name = f.getFileName().toString();
                    if (identified.test(name.substring(0, name.length() - SUFFIX.length()))) {
                        throw new IOException("the coordinator identity file " + file + " is missing, but " + f + " is a decision of"
                                + " node " + nodeName + " made under an identity; the prepared branches of that identity can only be"
                                + " recovered with it: restore the file from a copy of the log directory");
                    }
                }
            }
            byte[] id = new byte[ID_BYTES];
            new SecureRandom().nextBytes(id);
            Path temp = directory.resolve(nodeName + ID_SUFFIX + ".tmp");
            Files.deleteIfExists(temp); // left by a crash while creating it: it never took effect
            DurableFiles.replaceAtomically(directory, file, temp,
                    (ID_HEADER + "\n" + HexFormat.of().formatHex(id) + "\n").getBytes(StandardCharsets.US_ASCII));
            return id;
        }
    }

    /** Lets another coordinator of this node open the log. */
    void close() throws IOException {
        lock.release();
    }

    Path directory() {
        return directory;
    }

    void recordCommit(String transactionToken, List<Participant> participants) throws IOException {
        StringBuilder text = new StringBuilder(HEADER).append('\n');
        text.append("transaction ").append(transactionToken).append('\n');
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        for (Participant p : participants) {
            text.append("participant ").append(p.branch().toToken()).append(' ')
                    .append(b64.encodeToString(p.resourceManagerId().getBytes(StandardCharsets.UTF_8))).append('\n');
        }
        text.append("end\n");
        Path tmp = directory.resolve(transactionToken + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            ByteBuffer buf = ByteBuffer.wrap(text.toString().getBytes(StandardCharsets.UTF_8));
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            ch.force(true);
        }
        Files.move(tmp, file(transactionToken), StandardCopyOption.ATOMIC_MOVE);
        syncDirectory();
    }

    void remove(String transactionToken) throws IOException {
        if (Files.deleteIfExists(file(transactionToken))) {
            syncDirectory();
        }
    }

    boolean contains(String transactionToken) {
        return Files.exists(file(transactionToken));
    }

    /** The decision of one transaction, read now, or null when there is none. */
    Decision read(String transactionToken) throws IOException {
        try {
            return parse(transactionToken, file(transactionToken));
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    List<Decision> readAll() throws IOException {
        List<Decision> out = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(directory, "*" + SUFFIX)) {
            for (Path f : files) {
                String name = f.getFileName().toString();
                beforeReading.accept(f);
                try {
                    out.add(parse(name.substring(0, name.length() - SUFFIX.length()), f));
                } catch (NoSuchFileException finished) {
                    // deleted since the listing: its transaction was finished (by a commit here, a concurrent
                    // recovery, or the coordinator of another node sharing the directory)
                }
            }
        }
        return out;
    }

    private Decision parse(String token, Path f) throws IOException {
        List<String> lines = Files.readAllLines(f, StandardCharsets.UTF_8);
        if (lines.size() < 3 || !lines.get(0).equals(HEADER) || !lines.get(1).equals("transaction " + token)
                || !lines.get(lines.size() - 1).equals("end")) {
            return new Decision(token, null, "decision file " + f + " is not a complete coordinator log record");
        }
        List<Participant> participants = new ArrayList<>();
        try {
            for (String line : lines.subList(2, lines.size() - 1)) {
                String[] parts = line.split(" ");
                if (parts.length != 3 || !parts[0].equals("participant")) {
                    return new Decision(token, null, "decision file " + f + " has a bad line: " + line);
                }
                participants.add(new Participant(new String(Base64.getUrlDecoder().decode(parts[2]), StandardCharsets.UTF_8),
                        TransactionId.fromToken(parts[1])));
            }
        } catch (IllegalArgumentException e) {
            return new Decision(token, null, "decision file " + f + " is unreadable: " + e.getMessage());
        }
        return new Decision(token, participants, null);
    }

    private Path file(String token) {
        return directory.resolve(token + SUFFIX);
    }

    /** Makes every decision now in the directory durable (a rename's directory entry is not until the directory is synced). */
    void sync() throws IOException {
        syncDirectory();
    }

    private void syncDirectory() throws IOException {
        directorySync.sync(directory);
    }

    private static void fsyncDirectory(Path directory) throws IOException {
        DurableFiles.syncDirectory(directory);
    }
}
