package dev.reliablestore.tx.testing;

import dev.reliablestore.api.ConcurrencyConflictException;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.StoreClosedException;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.api.StoreUnavailableException;
import dev.reliablestore.api.Versioned;
import dev.reliablestore.spi.AbstractEntityStore;
import dev.reliablestore.spi.tx.AbstractTransactionBranch;
import dev.reliablestore.spi.tx.DuplicateTransactionException;
import dev.reliablestore.spi.tx.PendingWrite;
import dev.reliablestore.spi.tx.TransactionBranch;
import dev.reliablestore.spi.tx.TransactionId;
import dev.reliablestore.spi.tx.TransactionalResource;
import dev.reliablestore.spi.tx.UnknownTransactionException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;

/**
 * A genuinely durable participant for tests: String entities as files, prepared branches as
 * fsync'ed record files, entity locks derived from the prepared records (so they survive a
 * restart). Every mutation runs under one lock per instance; open one instance per directory.
 *
 * <p>Layout: {@code data/<type>/<b64 id>} = "version\nb64 value"; {@code prepared/<token>.tx} =
 * "PREPARED|COMMITTING" then one write per line. A COMMITTING record is a redo record of a
 * one-phase commit or batch, rolled forward at open.
 */
public final class FileParticipant implements StoreFactory, TransactionalResource {

    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
    private static final Base64.Decoder D64 = Base64.getUrlDecoder();

    private record Key(String type, String id) {
    }

    private final Path dir;
    private final Path data;
    private final Path prepared;
    private final Object lock = new Object();
    private final Map<TransactionId, Branch> live = new ConcurrentHashMap<>();
    /** Locked entity → token of the prepared record holding it. */
    private final Map<Key, String> locks = new HashMap<>();
    private final Map<String, Store> stores = new ConcurrentHashMap<>();
    private final AtomicReference<RuntimeException> nextPrepareFailure = new AtomicReference<>();
    private final AtomicReference<RuntimeException> nextFailureAfterCommit = new AtomicReference<>();
    private final AtomicReference<RuntimeException> nextFailureAfterRollback = new AtomicReference<>();
    private volatile boolean unavailable;
    /** As a real factory: once closed, its resource refuses every call. */
    private volatile boolean closed;
    private volatile boolean haltOnCommit;
    private volatile boolean haltOnPrepare;
    private volatile Runnable onPrepare = () -> { };
    private volatile Runnable onCommit = () -> { };
    private volatile Runnable onRollback = () -> { };
    private final java.util.concurrent.atomic.AtomicInteger prepares = new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.concurrent.atomic.AtomicInteger onePhaseCommits = new java.util.concurrent.atomic.AtomicInteger();

    public FileParticipant(Path dir) {
        this.dir = dir.toAbsolutePath();
        this.data = this.dir.resolve("data");
        this.prepared = this.dir.resolve("prepared");
        try {
            Files.createDirectories(data);
            Files.createDirectories(prepared);
            for (Path record : records()) {
                List<String> lines = Files.readAllLines(record);
                String token = tokenOf(record);
                List<PendingWrite> writes = parse(lines);
                if (lines.get(0).equals("COMMITTING")) {
                    apply(writes);
                    deleteRecord(token);
                } else {
                    for (PendingWrite w : writes) {
                        locks.put(new Key(w.typeName(), w.id()), token);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- fault injection (tests) ---------------------------------------------------------------

    /** The next prepare fails with this exception (after validation, before anything is written). */
    public void failNextPrepare(RuntimeException failure) {
        nextPrepareFailure.set(failure);
    }

    /**
     * The next commit of a live branch (two-phase or one-phase) applies its writes and then fails with this
     * exception, as a provider whose audit record could not be written after the commit does.
     */
    public void failNextAfterCommit(RuntimeException failure) {
        nextFailureAfterCommit.set(failure);
    }

    /** The next rollback of a prepared live branch removes its record, then fails with this exception. */
    public void failNextAfterRollback(RuntimeException failure) {
        nextFailureAfterRollback.set(failure);
    }

    /** While set, every operation fails with {@link StoreUnavailableException}. */
    public void unavailable(boolean value) {
        this.unavailable = value;
    }

    /** The process halts (as in a power cut) when a prepared branch is about to be committed. */
    public void haltOnCommit(boolean value) {
        this.haltOnCommit = value;
    }

    /** The process halts when asked to prepare, before writing anything. */
    public void haltOnPrepare(boolean value) {
        this.haltOnPrepare = value;
    }

    /** Runs at the start of every prepare of a branch with writes (e.g. to look at the coordinator's status). */
    public void onPrepare(Runnable hook) {
        this.onPrepare = hook;
    }

    /** Runs at the start of every two-phase commit of a live branch. */
    public void onCommit(Runnable hook) {
        this.onCommit = hook;
    }

    /** Runs at the start of every rollback of a prepared branch (live or recovered). */
    public void onRollback(Runnable hook) {
        this.onRollback = hook;
    }

    /** How many branches with writes were prepared (phase one) by this instance. */
    public int prepareCount() {
        return prepares.get();
    }

    /** How many branches with writes were committed in one phase by this instance. */
    public int onePhaseCommitCount() {
        return onePhaseCommits.get();
    }

    /** Ids of the prepared records on disk. */
    public List<String> preparedRecordFiles() {
        List<String> out = new ArrayList<>();
        for (Path p : records()) {
            out.add(p.getFileName().toString());
        }
        return out;
    }

    public boolean isLocked(String type, String id) {
        synchronized (lock) {
            return locks.containsKey(new Key(type, id));
        }
    }

    // ---- StoreFactory ------------------------------------------------------------------------

    @Override
    public String providerName() {
        return "test-file-participant";
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> EntityStore<T> store(String typeName, Class<T> type) {
        if (type != String.class) {
            throw new IllegalArgumentException("the test participant stores String entities only, not " + type.getName());
        }
        return (EntityStore<T>) stores.computeIfAbsent(typeName, Store::new);
    }

    @Override
    public void close() {
        closed = true;
        stores.values().forEach(Store::close);
    }

    // ---- TransactionalResource ---------------------------------------------------------------

    @Override
    public String resourceManagerId() {
        return "file-participant:" + dir;
    }

    @Override
    public TransactionBranch begin(TransactionId id) {
        checkAvailable();
        synchronized (lock) {
            if (live.containsKey(id) || Files.exists(recordFile(id.toToken()))) {
                throw new DuplicateTransactionException(id, resourceManagerId());
            }
            Branch b = new Branch(id);
            live.put(id, b);
            return b;
        }
    }

    @Override
    public Optional<TransactionBranch> branch(TransactionId id) {
        return Optional.ofNullable(live.get(id));
    }

    @Override
    public List<TransactionId> recover() {
        checkAvailable();
        List<TransactionId> out = new ArrayList<>();
        synchronized (lock) {
            for (Path p : records()) {
                try {
                    if (Files.readAllLines(p).get(0).equals("PREPARED")) {
                        out.add(TransactionId.fromToken(tokenOf(p)));
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
        return out;
    }

    @Override
    public void commitPrepared(TransactionId id) {
        checkAvailable();
        Branch b = live.get(id);
        if (b != null && b.state() == TransactionBranch.State.PREPARED) {
            b.commit();
            return;
        }
        synchronized (lock) {
            List<PendingWrite> writes = preparedWrites(id);
            haltIfAsked();
            apply(writes);
            deleteRecord(id.toToken());
        }
    }

    @Override
    public void rollbackPrepared(TransactionId id) {
        checkAvailable();
        Branch b = live.get(id);
        if (b != null && b.state() == TransactionBranch.State.PREPARED) {
            b.rollback();
            return;
        }
        onRollback.run();
        synchronized (lock) {
            preparedWrites(id);
            deleteRecord(id.toToken());
        }
    }

    // ---- the branch --------------------------------------------------------------------------

    private final class Branch extends AbstractTransactionBranch {

        Branch(TransactionId id) {
            super(id, FileParticipant.this);
        }

        @Override
        protected <T> EntityStore<T> committedStore(String typeName, Class<T> type) {
            return FileParticipant.this.store(typeName, type);
        }

        @Override
        protected <T> T copy(String typeName, Class<T> type, T entity) {
            return entity; // its entities are Strings: nothing a caller can change
        }

        @Override
        protected void doPrepare(List<PendingWrite> writes) {
            onPrepare.run();
            prepares.incrementAndGet();
            checkAvailable();
            if (haltOnPrepare) {
                Runtime.getRuntime().halt(3);
            }
            synchronized (lock) {
                validate(writes, id().toToken());
                RuntimeException injected = nextPrepareFailure.getAndSet(null);
                if (injected != null) {
                    throw injected;
                }
                writeRecord(id().toToken(), "PREPARED", writes);
                for (PendingWrite w : writes) {
                    locks.put(new Key(w.typeName(), w.id()), id().toToken());
                }
            }
        }

        @Override
        protected void doCommit(List<PendingWrite> writes) {
            onCommit.run();
            checkAvailable();
            synchronized (lock) {
                preparedWrites(id()); // finished meanwhile by id (recovery): unknown now, as a real participant answers
                haltIfAsked();
                apply(writes);
                deleteRecord(id().toToken());
            }
            RuntimeException after = nextFailureAfterCommit.getAndSet(null);
            if (after != null) {
                throw new AfterOutcomeFailure(after);
            }
        }

        @Override
        protected void doCommitOnePhase(List<PendingWrite> writes) {
            checkAvailable();
            synchronized (lock) {
                validate(writes, null);
                commitAtomically(id().toToken(), writes);
                onePhaseCommits.incrementAndGet();
            }
            RuntimeException after = nextFailureAfterCommit.getAndSet(null);
            if (after != null) {
                throw new AfterOutcomeFailure(after);
            }
        }

        @Override
        protected void doRollback(List<PendingWrite> writes, boolean prepareAttempted) {
            if (prepareAttempted) {
                onRollback.run();
                checkAvailable();
                synchronized (lock) {
                    deleteRecord(id().toToken());
                }
                RuntimeException after = nextFailureAfterRollback.getAndSet(null);
                if (after != null) {
                    throw new AfterOutcomeFailure(after);
                }
            }
        }

        @Override
        protected void completed() {
            live.remove(id());
        }
    }

    // ---- the committed store ------------------------------------------------------------------

    private final class Store extends AbstractEntityStore<String> {

        Store(String typeName) {
            super(typeName, Runnable::run);
        }

        @Override
        protected Optional<Versioned<String>> doGet(String id) {
            checkAvailable();
            return read(typeName(), id);
        }

        @Override
        protected long doSave(String id, String entity, long expectedVersion) {
            checkAvailable();
            synchronized (lock) {
                long current = version(typeName(), id);
                checkUnlocked(typeName(), id, expectedVersion, current);
                if (expectedVersion != ANY_VERSION && expectedVersion != current) {
                    throw new ConcurrencyConflictException(typeName(), id, expectedVersion, current);
                }
                PendingWrite w = new PendingWrite(typeName(), id, entity, current);
                commitAtomically(null, List.of(w));
                return w.newVersion();
            }
        }

        @Override
        protected boolean doDelete(String id, long expectedVersion) {
            checkAvailable();
            synchronized (lock) {
                long current = version(typeName(), id);
                checkUnlocked(typeName(), id, expectedVersion, current);
                if (expectedVersion != ANY_VERSION && expectedVersion != current) {
                    throw new ConcurrencyConflictException(typeName(), id, expectedVersion, current);
                }
                if (current == Versioned.ABSENT) {
                    return false;
                }
                commitAtomically(null, List.of(new PendingWrite(typeName(), id, null, current)));
                return true;
            }
        }

        @Override
        protected List<Versioned<String>> doGetAll(Predicate<? super String> filter) {
            checkAvailable();
            List<Versioned<String>> out = new ArrayList<>();
            Path typeDir = data.resolve(typeName());
            if (!Files.isDirectory(typeDir)) {
                return out;
            }
            try (DirectoryStream<Path> files = Files.newDirectoryStream(typeDir, f -> !f.getFileName().toString().endsWith(".tmp"))) {
                for (Path f : files) {
                    String id = new String(D64.decode(f.getFileName().toString()), StandardCharsets.UTF_8);
                    read(typeName(), id).filter(v -> filter == null || filter.test(v.value())).ifPresent(out::add);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            out.sort(java.util.Comparator.comparing(Versioned::id));
            return out;
        }

        @Override
        protected long doClear() {
            synchronized (lock) {
                long n = 0;
                for (Versioned<String> v : doGetAll(null)) {
                    if (doDelete(v.id(), ANY_VERSION)) {
                        n++;
                    }
                }
                return n;
            }
        }

        @Override
        protected Map<String, Long> doSaveBatch(Map<String, String> entities) {
            checkAvailable();
            synchronized (lock) {
                List<PendingWrite> writes = new ArrayList<>();
                Map<String, Long> versions = new LinkedHashMap<>();
                for (Map.Entry<String, String> e : entities.entrySet()) {
                    long current = version(typeName(), e.getKey());
                    checkUnlocked(typeName(), e.getKey(), ANY_VERSION, current);
                    PendingWrite w = new PendingWrite(typeName(), e.getKey(), e.getValue(), current);
                    writes.add(w);
                    versions.put(e.getKey(), w.newVersion());
                }
                commitAtomically(null, writes);
                return versions;
            }
        }

        @Override
        protected void doClose() {
        }
    }

    // ---- storage ------------------------------------------------------------------------------

    private void checkAvailable() {
        if (closed) {
            throw new StoreClosedException("test participant " + dir + " is closed");
        }
        if (unavailable) {
            throw new StoreUnavailableException("test participant " + dir + " is unavailable (injected)");
        }
    }

    private void haltIfAsked() {
        if (haltOnCommit) {
            Runtime.getRuntime().halt(3);
        }
    }

    private void checkUnlocked(String type, String id, long expected, long current) {
        String holder = locks.get(new Key(type, id));
        if (holder != null) {
            throw new ConcurrencyConflictException(type, id, expected, current, "locked by prepared transaction " + holder);
        }
    }

    private void validate(List<PendingWrite> writes, String owner) {
        for (PendingWrite w : writes) {
            long current = version(w.typeName(), w.id());
            String holder = locks.get(new Key(w.typeName(), w.id()));
            if (holder != null && !holder.equals(owner)) {
                throw new ConcurrencyConflictException(w.typeName(), w.id(), w.expectedVersion(), current,
                        "locked by prepared transaction " + holder);
            }
            if (current != w.expectedVersion()) {
                throw new ConcurrencyConflictException(w.typeName(), w.id(), w.expectedVersion(), current);
            }
        }
    }

    /** Redo record, apply, delete: atomic across a crash (rolled forward at open). */
    private void commitAtomically(String token, List<PendingWrite> writes) {
        String t = token != null ? token : "batch-" + System.nanoTime();
        writeRecord(t, "COMMITTING", writes);
        apply(writes);
        deleteRecord(t);
    }

    private List<PendingWrite> preparedWrites(TransactionId id) {
        Path f = recordFile(id.toToken());
        try {
            List<String> lines = Files.readAllLines(f);
            if (!lines.get(0).equals("PREPARED")) {
                throw new UnknownTransactionException(id, resourceManagerId());
            }
            return parse(lines);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new UnknownTransactionException(id, resourceManagerId());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void apply(List<PendingWrite> writes) {
        for (PendingWrite w : writes) {
            Path f = entityFile(w.typeName(), w.id());
            try {
                if (w.isDelete()) {
                    Files.deleteIfExists(f);
                } else {
                    Files.createDirectories(f.getParent());
                    writeDurably(f, w.newVersion() + "\n" + B64.encodeToString(((String) w.value()).getBytes(StandardCharsets.UTF_8)));
                }
                syncDir(f.getParent());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private void writeRecord(String token, String status, List<PendingWrite> writes) {
        StringBuilder sb = new StringBuilder(status).append('\n');
        for (PendingWrite w : writes) {
            sb.append(B64.encodeToString(w.typeName().getBytes(StandardCharsets.UTF_8))).append(' ')
                    .append(B64.encodeToString(w.id().getBytes(StandardCharsets.UTF_8))).append(' ')
                    .append(w.expectedVersion()).append(' ')
                    .append(w.isDelete() ? "-" : B64.encodeToString(((String) w.value()).getBytes(StandardCharsets.UTF_8)))
                    .append('\n');
        }
        try {
            writeDurably(recordFile(token), sb.toString());
            syncDir(prepared);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void deleteRecord(String token) {
        try {
            if (Files.deleteIfExists(recordFile(token))) {
                syncDir(prepared);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        locks.values().removeIf(token::equals);
    }

    private static List<PendingWrite> parse(List<String> lines) {
        List<PendingWrite> out = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            String[] p = line.split(" ");
            String value = p[3].equals("-") ? null : new String(D64.decode(p[3]), StandardCharsets.UTF_8);
            out.add(new PendingWrite(new String(D64.decode(p[0]), StandardCharsets.UTF_8),
                    new String(D64.decode(p[1]), StandardCharsets.UTF_8), value, Long.parseLong(p[2])));
        }
        return out;
    }

    private Optional<Versioned<String>> read(String type, String id) {
        try {
            List<String> lines = Files.readAllLines(entityFile(type, id));
            return Optional.of(new Versioned<>(id, new String(D64.decode(lines.get(1)), StandardCharsets.UTF_8),
                    Long.parseLong(lines.get(0))));
        } catch (java.nio.file.NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private long version(String type, String id) {
        return read(type, id).map(Versioned::version).orElse(Versioned.ABSENT);
    }

    private Path entityFile(String type, String id) {
        return data.resolve(type).resolve(B64.encodeToString(id.getBytes(StandardCharsets.UTF_8)));
    }

    private Path recordFile(String token) {
        return prepared.resolve(token + ".tx");
    }

    private static String tokenOf(Path record) {
        String n = record.getFileName().toString();
        return n.substring(0, n.length() - 3);
    }

    private List<Path> records() {
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(prepared, "*.tx")) {
            s.forEach(out::add);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    private static void writeDurably(Path f, String content) throws IOException {
        Path tmp = f.resolveSibling(f.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(content.getBytes(StandardCharsets.UTF_8));
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        }
        Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static void syncDir(Path d) throws IOException {
        try (FileChannel ch = FileChannel.open(d, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    @Override
    public String toString() {
        return "FileParticipant[" + dir + "]";
    }
}
