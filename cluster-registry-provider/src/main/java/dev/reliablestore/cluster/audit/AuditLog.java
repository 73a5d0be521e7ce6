package dev.reliablestore.cluster.audit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.reliablestore.api.ConfigurationException;
import dev.reliablestore.api.PersistenceException;
import dev.reliablestore.spi.DurableFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * An append-only audit log: one JSON object per line, each chained to the one before it.
 *
 * <pre>
 * {"seq":7,"time":"2025-05-02T09:14:03.512Z","node":"vm1","principal":"alice","op":"save","root":"RG/Data",
 *  "type":"Customer","id":"C-1","version":3,"tx":null,"prev":"9f…","hash":"4c…"}
 * </pre>
 *
 * {@code hash} is the SHA-256 of the line's text up to {@code ,"hash":} (so it covers {@code prev}, the
 * previous record's hash): editing a record breaks its hash, removing or reordering records breaks
 * the {@code prev} links and the {@code seq} sequence. A log truncated at its end stays a valid chain;
 * keep the head hash ({@link Verification#head()}) elsewhere to detect that.
 *
 * <p>Each node writes its own file, {@code <auditLogPath>/audit-<node>.log}, held with an OS lock
 * while open (one process per file; factories of one process share it). Records of one call are
 * appended and forced to disk together before the call returns. A last line without its newline is
 * cut off when the log is opened again, with a WARN: a crash while appending leaves one (that record
 * was never acknowledged), but so can damage to the end of the file, and then an acknowledged record
 * is lost; the reader cannot tell which, so the WARN says both.
 *
 * <h2>Interrupts</h2>
 * A {@code FileChannel} closes itself when a thread using it is interrupted (or has its interrupt
 * flag set), and closing it would drop the OS lock and stop the log for the whole process. So the
 * channel is only ever used by a thread of the log's own ({@code reliablestore-audit-<node>}, which
 * nothing interrupts): an append, a recovery and a read hand their I/O to it and wait for it without
 * giving way to an interrupt, which the caller gets back set. An append returns once its records are
 * forced, as before, and appends stay in order (the caller holds the log's monitor while it waits).
 */
public final class AuditLog implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(AuditLog.class);
    static final String GENESIS = "0".repeat(64);
    // a repeated field would show a value other than the one the hash covers
    private static final ObjectMapper MAPPER = JsonMapper.builder().enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
    /**
     * One writer per file per process, reference-counted, because the OS lock is the process's: a
     * second channel of this JVM cannot lock the file, and two writers would fork the hash chain.
     * Keyed by real path (a symbolic link is the same file). The lock is a POSIX record lock, which
     * closing <em>any</em> descriptor of the file drops: so while a log is open here, reading it
     * ({@link #read}, {@link #verify}) goes through its channel rather than open the file again.
     */
    private static final Map<Path, AuditLog> OPEN = new HashMap<>();

    private final Path file;
    private final Path key;
    private final String node;
    private final FileChannel channel;
    private final FileLock lock;
    /** The only thread that uses {@link #channel}. */
    private final IoThread io;
    private int users;
    private long seq;
    private String head;
    /** Why appends are refused (a failed one that could not be cut off); null while the log takes records. */
    private String stopped;

    /** What one write did; see {@link AuditRecord} for the fields. */
    public record Entry(String op, String principal, String root, String type, String id, long version, String tx) {
        public Entry {
            Objects.requireNonNull(op, "op");
        }
    }

    private AuditLog(Path file, Path key, String node, FileChannel channel, FileLock lock, IoThread io, long seq, String head) {
        this.file = file;
        this.key = key;
        this.node = node;
        this.channel = channel;
        this.lock = lock;
        this.io = io;
        this.seq = seq;
        this.head = head;
    }

    /** The file a node's records go to. */
    public static Path fileFor(Path directory, String node) {
        return directory.resolve("audit-" + node.replaceAll("[^A-Za-z0-9._-]", "_") + ".log");
    }

    /**
     * Opens (creating when missing) the node's log in {@code directory} and continues its chain.
     *
     * @throws ConfigurationException when the directory cannot be used or another process holds the log
     * @throws PersistenceException   when the existing log's last record cannot be read
     */
    public static AuditLog open(Path directory, String node) {
        return open(directory, node, c -> c);
    }

    /** {@link #open(Path, String)} writing through {@code channels}' wrapper of the file's channel (tests inject faults there). */
    static AuditLog open(Path directory, String node, java.util.function.UnaryOperator<FileChannel> channels) {
        Path file = fileFor(directory, node).toAbsolutePath().normalize();
        synchronized (OPEN) {
            Path key;
            try {
                DurableFiles.createDirectories(file.getParent()); // flushed into its parent: a power loss must not take the log
                key = realPath(file);
            } catch (IOException e) {
                throw new ConfigurationException("option auditLogPath = " + directory + " is invalid: cannot create the directory ("
                        + e.getClass().getSimpleName() + ")", e);
            }
            AuditLog shared = OPEN.get(key);
            if (shared != null) {
                shared.users++;
                return shared;
            }
            FileChannel channel = null;
            IoThread io = new IoThread("reliablestore-audit-" + node);
            try {
                channel = channels.apply(FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE));
                FileLock lock;
                try {
                    lock = channel.tryLock();
                } catch (OverlappingFileLockException e) {
                    // not an AuditLog (those are in OPEN): other code of this process locked the file
                    throw new ConfigurationException("audit log " + file + " is locked by other code in this process");
                }
                if (lock == null) {
                    throw new ConfigurationException("audit log " + file + " is in use by another process; each process needs its "
                            + "own node name or auditLogPath");
                }
                long[] seqOut = {0};
                FileChannel opened = channel;
                String head = io.run(() -> recover(file, opened, seqOut));
                AuditLog log = new AuditLog(file, key, node, channel, lock, io, seqOut[0], head);
                log.users = 1;
                OPEN.put(key, log);
                return log;
            } catch (IOException e) {
                closeQuietly(channel);
                io.stop();
                throw new ConfigurationException("option auditLogPath = " + directory + " is invalid: cannot open " + file + " ("
                        + e.getClass().getSimpleName() + ": " + e.getMessage() + ")", e);
            } catch (RuntimeException | Error e) {
                closeQuietly(channel);
                io.stop();
                throw e;
            }
        }
    }

    /** Reads the last complete record (cutting a torn tail); returns its hash and sets its seq. */
    private static String recover(Path file, FileChannel channel, long[] seqOut) throws IOException {
        long size = channel.size();
        if (size == 0) {
            return GENESIS;
        }
        long end = size;
        ByteBuffer one = ByteBuffer.allocate(1);
        channel.read(one, end - 1);
        if (one.get(0) != '\n') {
            long cut = lastNewline(channel, end - 1) + 1;
            LOG.warn("audit log {}: cutting off a last record without its newline ({} bytes): a torn write, or damage to the end of"
                    + " the file; if that record had been acknowledged, it is lost", file, end - cut);
            channel.truncate(cut);
            channel.force(true);
            end = cut;
            if (end == 0) {
                return GENESIS;
            }
        }
        long start = lastNewline(channel, end - 1) + 1;
        ByteBuffer line = ByteBuffer.allocate((int) (end - 1 - start));
        channel.read(line, start);
        String text = new String(line.array(), StandardCharsets.UTF_8);
        try {
            AuditRecord last = parse(text);
            seqOut[0] = last.seq();
            return last.hash();
        } catch (RuntimeException e) {
            throw new PersistenceException("audit log " + file + ": its last record cannot be read, so the chain cannot be "
                    + "continued (" + e.getMessage() + "); run 'reliablestore audit verify' on it and move it aside");
        }
    }

    /** The offset of the last '\n' before {@code before}, or -1. */
    private static long lastNewline(FileChannel channel, long before) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(8192);
        long pos = before;
        while (pos > 0) {
            long from = Math.max(0, pos - buf.capacity());
            buf.clear().limit((int) (pos - from));
            channel.read(buf, from);
            for (int i = buf.position() - 1; i >= 0; i--) {
                if (buf.get(i) == '\n') {
                    return from + i;
                }
            }
            pos = from;
        }
        return -1;
    }

    /**
     * Appends the entries as consecutive records and forces them to disk.
     *
     * @throws PersistenceException when they cannot be written (the message says the operation itself did happen)
     */
    public void append(List<Entry> entries) {
        if (entries.isEmpty()) {
            return;
        }
        synchronized (this) {
            StringBuilder text = new StringBuilder();
            long s = seq;
            String h = head;
            String time = Instant.now().toString();
            for (Entry e : entries) {
                s++;
                ObjectNode r = MAPPER.createObjectNode();
                r.put("seq", s).put("time", time).put("node", node).put("principal", e.principal()).put("op", e.op())
                        .put("root", e.root()).put("type", e.type()).put("id", e.id()).put("version", e.version())
                        .put("tx", e.tx()).put("prev", h);
                String body = write(r);
                h = sha256(body.substring(0, body.length() - 1));
                text.append(body, 0, body.length() - 1).append(",\"hash\":\"").append(h).append("\"}\n");
            }
            if (stopped != null) {
                throw new PersistenceException("the operation was committed, but the audit log " + file + " takes no more records: "
                        + stopped + "; close every factory of this process that uses it, then open again (the log is recovered from"
                        + " what is on disk)", null, true);
            }
            byte[] bytes = text.toString().getBytes(StandardCharsets.UTF_8);
            try {
                io.run(() -> write(bytes)); // on the log's thread: an interrupt of the caller must not close the channel
            } catch (IOException e) {
                throw new PersistenceException("the operation was committed, but its audit record could not be written to " + file
                        + " (" + e.getClass().getSimpleName() + ": " + e.getMessage() + ")", e, true);
            }
            seq = s;
            head = h;
        }
    }

    /** Appends {@code bytes} at the end of the file and forces them; on the log's thread. */
    private Void write(byte[] bytes) throws IOException {
        long end = -1;
        try {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            end = channel.size();
            long at = end;
            while (buf.hasRemaining()) {
                at += channel.write(buf, at);
            }
            channel.force(false);
            return null;
        } catch (IOException e) {
            // a part written (a full disk) or not known durable (a failed fsync) must not stay before the next record, which
            // would glue onto it or repeat its seq: the file goes back to where it ended, and if it cannot, takes no more
            undo(end, e);
            throw e;
        }
    }

    /** After a failed append: the file cut back to {@code end} (its size before; -1: unknown), else no more appends. */
    private void undo(long end, IOException failed) {
        if (end < 0) {
            stopped = "its size could not be read (" + failed.getMessage() + ")";
            return;
        }
        try {
            channel.truncate(end);
        } catch (IOException e) {
            failed.addSuppressed(e);
            stopped = "a failed append could not be cut off (" + e.getMessage() + ")";
        }
    }

    public Path file() {
        return file;
    }

    /** Closes this user's handle; the file is released when the last user in the process closes. */
    @Override
    public void close() {
        synchronized (OPEN) {
            if (users == 0) {
                return;
            }
            if (--users == 0) {
                OPEN.remove(key);
                try {
                    // after the appends handed to the log's thread before: they end as they would have, not on a closed channel
                    io.run(() -> {
                        try {
                            lock.release();
                        } catch (IOException e) {
                            LOG.debug("audit log {}: releasing the lock failed", file, e);
                        }
                        closeQuietly(channel);
                        return null;
                    });
                } catch (IOException e) {
                    closeQuietly(channel); // the thread could not take it (not expected): closed here, which drops the lock too
                } finally {
                    io.stop(); // later appends fail: "the audit log is closed"
                }
            }
        }
    }

    // ---- reading and verifying --------------------------------------------------------------

    /** A problem found by {@link #verify}. */
    public record Problem(long line, String description) {
    }

    /**
     * The result of checking a whole log.
     *
     * @param records  lines read
     * @param head     the hash of the last record (compare with a copy kept elsewhere to detect a cut tail)
     * @param problems each edited, removed or reordered record found, by line
     */
    public record Verification(long records, String head, List<Problem> problems) {
        public boolean intact() {
            return problems.isEmpty();
        }
    }

    /**
     * Reads every record of a log. Unparseable lines are skipped here; {@link #verify} reports them.
     *
     * @throws UncheckedIOException when the file cannot be read
     */
    public static List<AuditRecord> read(Path file) {
        List<AuditRecord> out = new ArrayList<>();
        for (String line : lines(file)) {
            try {
                out.add(parse(line));
            } catch (RuntimeException skipped) {
                // reported by verify
            }
        }
        return out;
    }

    /** Checks every record's hash, the {@code prev} links and the {@code seq} sequence. */
    public static Verification verify(Path file) {
        return verify(file, null);
    }

    /**
     * As {@link #verify(Path)}, and also that a record has the hash {@code keptHead} (a {@link Verification#head()}
     * kept elsewhere earlier; hex, any case): records cut off the end since then are a problem, records appended
     * since are not.
     */
    public static Verification verify(Path file, String keptHead) {
        // the head of an empty log (the chain's start) is before every record: still in the chain however it grew
        boolean keptHeadFound = keptHead == null || keptHead.equalsIgnoreCase(GENESIS);
        List<Problem> problems = new ArrayList<>();
        String prev = GENESIS;
        long expectedSeq = 1;
        long n = 0;
        for (String line : lines(file)) {
            n++;
            AuditRecord r;
            try {
                r = parse(line);
            } catch (RuntimeException e) {
                problems.add(new Problem(n, "not an audit record (" + e.getMessage() + ")"));
                continue;
            }
            int cut = line.lastIndexOf(",\"hash\":\"");
            if (cut < 0 || !sha256(line.substring(0, cut)).equals(r.hash())) {
                problems.add(new Problem(n, "record seq " + r.seq() + " was altered: its hash does not match its contents"));
            } else if (!line.equals(line.substring(0, cut) + ",\"hash\":\"" + r.hash() + "\"}")) {
                // the hash covers what precedes it: anything after it (a field that overrides one before) was added
                problems.add(new Problem(n, "record seq " + r.seq() + " was altered: text follows its hash"));
            }
            if (!r.prev().equals(prev)) {
                problems.add(new Problem(n, "record seq " + r.seq() + " does not follow the record before it (its prev hash "
                        + abbreviate(r.prev()) + " is not " + abbreviate(prev) + "): records were removed or reordered"));
            }
            if (r.seq() != expectedSeq) {
                problems.add(new Problem(n, "record seq " + r.seq() + " where seq " + expectedSeq + " was expected: "
                        + (r.seq() > expectedSeq ? "records were removed" : "records were reordered or duplicated")));
            }
            prev = r.hash();
            expectedSeq = r.seq() + 1;
            keptHeadFound |= r.hash().equalsIgnoreCase(keptHead);
        }
        if (!keptHeadFound) {
            problems.add(new Problem(n, "no record has the kept head hash " + keptHead + " (the last record's is " + prev
                    + "): records were cut off the end, or the log was rewritten"));
        }
        return new Verification(n, prev, List.copyOf(problems));
    }

    private static List<String> lines(Path file) {
        try {
            String text;
            synchronized (OPEN) {
                AuditLog open = Files.exists(file) ? OPEN.get(realPath(file)) : null;
                text = open != null ? open.contents() : Files.readString(file, StandardCharsets.UTF_8);
            }
            return text.lines().filter(l -> !l.isEmpty()).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read audit log " + file, e);
        }
    }

    /** The file's real path: its directory's (which exists), resolved, with its name. */
    private static Path realPath(Path file) throws IOException {
        Path absolute = file.toAbsolutePath().normalize();
        return absolute.getParent().toRealPath().resolve(absolute.getFileName());
    }

    /** The whole log, read through this writer's channel (records are appended whole under this monitor). */
    private synchronized String contents() throws IOException {
        return io.run(this::readAll); // an interrupted reader must not close the channel either
    }

    private String readAll() throws IOException {
        long size = channel.size();
        if (size > Integer.MAX_VALUE - 8) {
            throw new IOException("audit log " + file + " holds " + size + " bytes, more than one read may return");
        }
        ByteBuffer all = ByteBuffer.allocate((int) size);
        while (all.hasRemaining()) {
            if (channel.read(all, all.position()) < 0) {
                break;
            }
        }
        return new String(all.array(), 0, all.position(), StandardCharsets.UTF_8);
    }

    static AuditRecord parse(String line) {
        JsonNode n;
        try {
            n = MAPPER.readTree(line);
        } catch (JsonProcessingException e) {
            boolean repeated = e.getOriginalMessage() != null && e.getOriginalMessage().startsWith("Duplicate field");
            throw new IllegalArgumentException((repeated ? "a field given twice (" + e.getOriginalMessage() + ")" : "malformed JSON")
                    + " at column " + e.getLocation().getColumnNr());
        }
        if (n == null || !n.isObject() || !n.path("seq").canConvertToLong() || !n.path("hash").isTextual() || !n.path("prev").isTextual()) {
            throw new IllegalArgumentException("seq, prev or hash is missing");
        }
        return new AuditRecord(n.get("seq").asLong(), text(n, "time"), text(n, "node"), text(n, "principal"), text(n, "op"),
                text(n, "root"), text(n, "type"), text(n, "id"), n.path("version").asLong(), text(n, "tx"),
                n.get("prev").asText(), n.get("hash").asText());
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    private static String write(ObjectNode r) {
        try {
            return MAPPER.writeValueAsString(r);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    }

    private static String abbreviate(String hash) {
        return hash.length() > 12 ? hash.substring(0, 12) + "…" : hash;
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // closing after a failure
            }
        }
    }

    @Override
    public String toString() {
        return "audit log " + file;
    }

    /** A step of the log's file I/O. */
    private interface IoTask<T> {
        T run() throws IOException;
    }

    /**
     * The thread of one log that alone uses its channel. Nothing interrupts it (it is stopped with
     * {@code shutdown}, which does not interrupt); a caller hands it a step and waits for the step's
     * end through its own interrupts, then restores them.
     */
    private static final class IoThread {

        private final ExecutorService thread;

        IoThread(String name) {
            thread = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), r -> {
                Thread t = new Thread(r, name);
                t.setDaemon(true);
                return t;
            });
        }

        /** Runs {@code task} on the log's thread and returns what it did, waiting uninterruptibly; the caller's interrupt is kept. */
        <T> T run(IoTask<T> task) throws IOException {
            Future<T> done;
            try {
                done = thread.submit(() -> {
                    Thread.interrupted(); // not expected (nothing interrupts this thread): it would close the channel
                    return task.run();
                });
            } catch (RejectedExecutionException closed) {
                throw new IOException("the audit log is closed: every factory of this process that used it has closed", closed);
            }
            boolean interrupted = false;
            try {
                while (true) {
                    try {
                        return done.get();
                    } catch (InterruptedException e) {
                        interrupted = true; // the step goes on and must be waited for: the caller returns after it, as it always did
                    }
                }
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                if (cause instanceof IOException failed) {
                    throw failed;
                }
                if (cause instanceof RuntimeException failed) {
                    throw failed;
                }
                if (cause instanceof Error failed) {
                    throw failed;
                }
                throw new IllegalStateException(cause);
            } finally {
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        /** Ends the thread once the steps handed to it are done; later ones are refused. */
        void stop() {
            thread.shutdown();
            boolean interrupted = false;
            try {
                while (true) {
                    try {
                        if (!thread.awaitTermination(10, TimeUnit.SECONDS)) {
                            LOG.warn("an audit log's thread has not ended 10 s after it was stopped: a file operation is still running");
                        }
                        return;
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
            } finally {
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }
}
