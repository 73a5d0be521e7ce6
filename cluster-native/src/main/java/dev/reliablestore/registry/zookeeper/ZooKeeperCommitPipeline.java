package dev.reliablestore.registry.zookeeper;

import dev.reliablestore.registry.BatchCommand;
import dev.reliablestore.registry.CommitResult;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.WriteBatch;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.proto.CheckVersionRequest;
import org.apache.zookeeper.proto.CreateRequest;
import org.apache.zookeeper.proto.DeleteRequest;
import org.apache.zookeeper.proto.SetDataRequest;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;
import java.util.function.Supplier;

/**
 * Lets many batches of one registry be in flight at once, ordering only those that must be.
 *
 * <p>A batch waits for the earlier-submitted batches still in flight that overlap it: both name the
 * same value (a value command or condition on it), or one has a key-level command (create, delete,
 * exists, absent) on a key equal to, above or below a key whose values or subkeys the other names.
 * Every other batch starts at once, so independent batches — saves of different entities of one
 * type among them — pipeline on the one ZooKeeper session. A condition observes exactly one value
 * or one key (and, for a key, what lies below it), so batches that do not overlap cannot observe
 * each other's effects: running them concurrently is indistinguishable from some serial order,
 * while overlapping batches keep submission order — which is what "ASYNC batches from one thread
 * apply in call order" needs. Two such batches may still collide in ZooKeeper (both create a
 * missing key): the loser's multi fails and it is re-planned, like any batch whose snapshot aged.
 *
 * <p>Group commit: at most {@link #MAX_MULTIS_IN_FLIGHT} changing multis are in flight; batches
 * ready meanwhile queue and go together in the next multi (within the request size, and at most
 * {@link ZnodeLayout#MAX_SUBS} batches), so a lone writer never waits. Such batches are independent
 * (the ordering above). Each keeps its own change-log entry, and its sequence is the multi's zxid
 * with its index in the multi below it ({@link ZnodeLayout#sequence}); its values and entry carry
 * that index. A multi fails as a whole: the batch that owns the failed op gets the failure as if
 * its own multi had failed there, the others are sent again without it, each alone.
 */
final class ZooKeeperCommitPipeline {

    /** Changing multis in flight at once; more batches wait to be coalesced into the next. */
    static final int MAX_MULTIS_IN_FLIGHT = 2;

    /** What the multi did for one batch: results laid out as its own multi's, and its index in the multi. */
    record Sent(List<OpResult> results, int sub) {
    }

    /** A batch's multi waiting to be sent: plan ops, then {@code setData(seq)}, then the log entry's create. */
    private static final class Member {
        final ZooKeeper zk;
        final List<Op> ops;
        final long size;
        final BiConsumer<List<OpResult>, Integer> applied;
        final CompletableFuture<Sent> result = new CompletableFuture<>();

        Member(ZooKeeper zk, List<Op> ops, long size, BiConsumer<List<OpResult>, Integer> applied) {
            this.zk = zk;
            this.ops = ops;
            this.size = size;
            this.applied = applied;
        }
    }

    private final String seqPath;
    private final long maxRequestBytes;
    private final AnswerDeadlines deadlines;
    private final Object groupLock = new Object();
    private final ArrayDeque<Member> waiting = new ArrayDeque<>();
    private int multisInFlight;
    /** Set by {@link #close}: the failure of every batch not sent by then. */
    private Supplier<? extends RuntimeException> closedBy;
    private long coalescedMultis;
    private long sharedGuards;

    /** Told the create op of each change-log entry a multi carries when it is sent (see ChangeFeed#ownEntrySent). */
    private volatile java.util.function.Consumer<Op> entrySent = entry -> { };
    /** Told each entry of a multi that failed. */
    private volatile java.util.function.Consumer<String> entryNotCreated = path -> { };

    /** {@code deadlines}: a multi not answered in time fails as a connection problem (its slot is freed). */
    ZooKeeperCommitPipeline(String seqPath, long maxRequestBytes, AnswerDeadlines deadlines) {
        this.seqPath = seqPath;
        this.maxRequestBytes = maxRequestBytes;
        this.deadlines = deadlines;
    }

    /** Who is told of the change-log entries sent, and of those whose multi failed. */
    void onEntries(java.util.function.Consumer<Op> sent, java.util.function.Consumer<String> notCreated) {
        this.entrySent = sent;
        this.entryNotCreated = notCreated;
    }

    /**
     * What a batch can observe or change, at the granularity its conditions can see: single values,
     * and whole keys (key-level commands, which also reach every value and key below).
     */
    private record Footprint(Set<RegistryPath> keys, Set<ValueRef> values, Set<RegistryPath> valueKeys,
                             Set<RegistryPath> valueScope, Set<RegistryPath> keyScope) {
        // valueKeys: the distinct keys of the values (a batch of 100 saves names three); valueScope and
        // keyScope: every ancestor-or-self of those keys and of the keys that key-level commands name,
        // each once — a batch is registered once per key, not once per value
    }

    private static Set<RegistryPath> ancestorsOrSelf(Set<RegistryPath> of) {
        Set<RegistryPath> out = new LinkedHashSet<>();
        for (RegistryPath k : of) {
            // an ancestor already there brought its own ancestors with it
            for (RegistryPath a = k; out.add(a) && !a.isRoot(); ) {
                a = a.parent();
            }
        }
        return out;
    }

    private record ValueRef(RegistryPath key, String name) {
    }

    /** One submitted batch until it completes. */
    private static final class InFlight {
        final Footprint footprint;
        final CompletableFuture<Void> done = new CompletableFuture<>();

        InFlight(Footprint footprint) {
            this.footprint = footprint;
        }
    }

    private final Object lock = new Object();
    /** In-flight batches by each key a key-level command of theirs names. */
    private final Map<RegistryPath, List<InFlight>> keyAt = new HashMap<>();
    /** In-flight batches by each ancestor-or-self of a key a key-level command of theirs names. */
    private final Map<RegistryPath, List<InFlight>> keyUnder = new HashMap<>();
    /** In-flight batches by each value a command of theirs names. */
    private final Map<ValueRef, List<InFlight>> valueAt = new HashMap<>();
    /** In-flight batches by each ancestor-or-self of the key of a value they name. */
    private final Map<RegistryPath, List<InFlight>> valueUnder = new HashMap<>();
    private final Set<InFlight> all = Collections.newSetFromMap(new IdentityHashMap<>());

    /** Starts {@code run} once every overlapping earlier batch has completed (successfully or not). */
    CompletableFuture<CommitResult> submit(WriteBatch batch, Supplier<CompletableFuture<CommitResult>> run) {
        Footprint fp = footprint(batch);
        InFlight me = new InFlight(fp);
        Set<InFlight> before = Collections.newSetFromMap(new IdentityHashMap<>());
        synchronized (lock) {
            for (ValueRef v : fp.values()) {
                addLast(before, valueAt.get(v)); // the same value
            }
            for (RegistryPath k : fp.valueKeys()) {
                // a key-level command on a value's key or above it, or below it (a delete or create there)
                addAll(before, keyUnder.get(k));
                for (RegistryPath a = k; !a.isRoot(); ) {
                    a = a.parent();
                    addLast(before, keyAt.get(a));
                }
            }
            for (RegistryPath k : fp.keys()) {
                // anything at or below the key, and key-level commands above it
                addAll(before, keyUnder.get(k));
                addAll(before, valueUnder.get(k));
                for (RegistryPath a = k; !a.isRoot(); ) {
                    a = a.parent();
                    addLast(before, keyAt.get(a));
                }
            }
            for (ValueRef v : fp.values()) {
                valueAt.computeIfAbsent(v, x -> new ArrayList<>(2)).add(me);
            }
            for (RegistryPath a : fp.valueScope()) {
                valueUnder.computeIfAbsent(a, x -> new ArrayList<>(2)).add(me);
            }
            for (RegistryPath k : fp.keys()) {
                keyAt.computeIfAbsent(k, x -> new ArrayList<>(2)).add(me);
            }
            for (RegistryPath a : fp.keyScope()) {
                keyUnder.computeIfAbsent(a, x -> new ArrayList<>(2)).add(me);
            }
            all.add(me);
        }
        CompletableFuture<CommitResult> result;
        if (before.isEmpty()) {
            result = start(run);
        } else {
            CompletableFuture<?>[] waits = new CompletableFuture<?>[before.size()];
            int i = 0;
            for (InFlight f : before) {
                waits[i++] = f.done;
            }
            result = CompletableFuture.allOf(waits).thenCompose(v -> start(run));
        }
        result.whenComplete((r, t) -> finish(me));
        return result;
    }

    private static void addAll(Set<InFlight> into, List<InFlight> from) {
        if (from != null) {
            into.addAll(from);
        }
    }

    /**
     * The newest batch of a list of {@link #valueAt} or {@link #keyAt}: each batch of such a list waited for
     * every earlier one still in it, and its {@code done} follows theirs, so waiting for the newest waits for
     * all. A burst of n batches on one value then costs n waits, not n²/2.
     */
    private static void addLast(Set<InFlight> into, List<InFlight> from) {
        if (from != null && !from.isEmpty()) {
            into.add(from.get(from.size() - 1));
        }
    }

    /** Batches in flight (for tests). */
    int inFlight() {
        synchronized (lock) {
            return all.size();
        }
    }

    private static CompletableFuture<CommitResult> start(Supplier<CompletableFuture<CommitResult>> run) {
        try {
            return run.get();
        } catch (RuntimeException | Error e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private void finish(InFlight me) {
        synchronized (lock) {
            for (ValueRef v : me.footprint.values()) {
                remove(valueAt, v, me);
            }
            for (RegistryPath a : me.footprint.valueScope()) {
                remove(valueUnder, a, me);
            }
            for (RegistryPath k : me.footprint.keys()) {
                remove(keyAt, k, me);
            }
            for (RegistryPath a : me.footprint.keyScope()) {
                remove(keyUnder, a, me);
            }
            all.remove(me);
        }
        // Completing `done` starts the batches waiting for this one on this thread; one whose run fails at
        // once (the registry closed, a condition proved false from cached facts) finishes here too and
        // releases the next: done inline, a chain of a thousand such batches overflowed the stack, and the
        // batches after the overflow were never started. So a finish inside another finish on this thread
        // is queued, and the outermost one releases the queue in order.
        ArrayDeque<InFlight> releasing = RELEASING.get();
        if (releasing != null) {
            releasing.add(me);
            return;
        }
        releasing = new ArrayDeque<>();
        RELEASING.set(releasing);
        try {
            for (InFlight next = me; next != null; next = releasing.poll()) {
                next.done.complete(null);
            }
        } finally {
            RELEASING.remove();
        }
    }

    /** The batches whose finish was reached inside an outer finish on this thread (see {@link #finish}). */
    private static final ThreadLocal<ArrayDeque<InFlight>> RELEASING = new ThreadLocal<>();

    private static <K> void remove(Map<K, List<InFlight>> map, K k, InFlight me) {
        List<InFlight> l = map.get(k);
        if (l != null) {
            for (int i = 0; i < l.size(); i++) {
                if (l.get(i) == me) {
                    l.remove(i);
                    break;
                }
            }
            if (l.isEmpty()) {
                map.remove(k);
            }
        }
    }

    // ---- group commit -------------------------------------------------------------------------------

    /**
     * Sends a batch's multi ({@code ops}: plan ops, {@code setData(seq)}, the log entry's create;
     * {@code size} its request bytes), alone or with others. {@code applied} gets the batch's results
     * and index on the event thread when the multi succeeded; a failure is the batch's own, laid
     * out as its own multi's.
     */
    CompletableFuture<Sent> send(ZooKeeper zk, List<Op> ops, long size, BiConsumer<List<OpResult>, Integer> applied) {
        Member m = new Member(zk, ops, size, applied);
        boolean now;
        synchronized (groupLock) {
            if (closedBy != null) {
                return CompletableFuture.failedFuture(closedBy.get());
            }
            now = multisInFlight < MAX_MULTIS_IN_FLIGHT;
            if (now) {
                multisInFlight++;
            } else {
                waiting.add(m);
            }
        }
        if (now) {
            sendGroup(List.of(m));
        }
        return m.result;
    }

    /**
     * Fails the batches still waiting for a multi with {@code failure} (the registry is closing),
     * and every batch sent from now on, including those a failed coalesced multi would send again.
     * None of them reached a server, so their callers learn they were not written, where a multi
     * sent over the closing connection would have left its outcome unknown.
     */
    void close(Supplier<? extends RuntimeException> failure) {
        List<Member> unsent;
        synchronized (groupLock) {
            closedBy = failure;
            unsent = new ArrayList<>(waiting);
            waiting.clear();
        }
        for (Member m : unsent) {
            m.result.completeExceptionally(failure.get());
        }
    }

    /** Batches waiting for a multi's slot (for tests). */
    int waitingBatches() {
        synchronized (groupLock) {
            return waiting.size();
        }
    }

    /** Guard ops left out of coalesced multis because an earlier batch's identical guard stood for them (for tests). */
    long sharedGuards() {
        synchronized (groupLock) {
            return sharedGuards;
        }
    }

    /** Multis that carried more than one batch (for tests). */
    long coalescedMultis() {
        synchronized (groupLock) {
            return coalescedMultis;
        }
    }

    /**
     * Sends the group's multi, which holds one of the {@link #MAX_MULTIS_IN_FLIGHT} slots until it is
     * answered. If building or handing over the multi throws (ZooKeeper's asynchronous multi reports
     * its own failures through the callback, so nothing was queued), the group's batches fail with
     * that and the slot passes on: a leaked slot would leave every later batch waiting for good.
     */
    private void sendGroup(List<Member> group) {
        String[] entries = new String[group.size()];
        CompletableFuture<List<OpResult>> answer;
        Combined multi;
        try {
            multi = group.size() == 1 ? null : combine(group.stream().map(m -> m.ops).toList(), seqPath);
            List<Op> ops = multi == null ? group.get(0).ops : multi.ops();
            for (int j = 0; j < group.size(); j++) {
                // each batch's change-log entry: the last of its own ops, its place in the coalesced multi
                Op entry = ops.get(multi == null ? ops.size() - 1 : multi.where()[j][group.get(j).ops.size() - 1]);
                entries[j] = entry.getPath();
                entrySent.accept(entry);
            }
            if (multi != null) {
                synchronized (groupLock) {
                    sharedGuards += multi.shared();
                }
            }
            answer = multiOf(group, multi, ops);
        } catch (RuntimeException | Error e) {
            for (String entry : entries) {
                if (entry != null) {
                    entryNotCreated.accept(entry);
                }
            }
            for (Member m : group) {
                m.result.completeExceptionally(e);
            }
            next(List.of());
            return;
        }
        answered(group, multi, entries, answer);
    }

    private CompletableFuture<List<OpResult>> multiOf(List<Member> group, Combined multi, List<Op> ops) {
        return ZkCalls.multi(group.get(0).zk, ops, results -> {
            for (int j = 0; j < group.size(); j++) {
                group.get(j).applied.accept(local(multi, j, results), j);
            }
        });
    }

    private void answered(List<Member> group, Combined multi, String[] entries, CompletableFuture<List<OpResult>> answer) {
        deadlines.watch(answer).whenComplete((results, t) -> {
            if (t != null) {
                // not created, or not known to be: its creation event (if any) reads it
                for (String e : entries) {
                    entryNotCreated.accept(e);
                }
            }
            if (t == null) {
                // the slot is free before the batches are told: completing them runs their callers'
                // continuations on this thread, and the batches queued meanwhile need not wait for those
                next(List.of());
            }
            List<Member> retry;
            try {
                retry = settle(group, multi, results, t);
            } catch (RuntimeException | Error e) {
                // never leave a batch waiting: its outcome is then reported as a failure of the commit
                for (Member m : group) {
                    m.result.completeExceptionally(e);
                }
                retry = List.of();
            }
            if (t != null) {
                next(retry);
            }
        });
    }

    /** Completes the group's batches; returns those to send again. */
    private static List<Member> settle(List<Member> group, Combined multi, List<OpResult> results, Throwable t) {
        List<Member> retry = List.of();
        if (t == null) {
            for (int j = 0; j < group.size(); j++) {
                group.get(j).result.complete(new Sent(local(multi, j, results), j));
            }
        } else {
            Throwable cause = ZkCalls.unwrap(t);
            if (group.size() == 1) {
                group.get(0).result.completeExceptionally(cause);
            } else if (cause instanceof ZkCalls.MultiFailure mf && multi.owner(mf.failedOp()) >= 0) {
                int owner = multi.owner(mf.failedOp());
                group.get(owner).result.completeExceptionally(new ZkCalls.MultiFailure(mf.code, local(multi, owner, mf.results)));
                // nothing of the multi applied: the others go again without the batch that failed it,
                // each alone so that further failing batches cost one round trip, not one each
                List<Member> others = new ArrayList<>(group);
                others.remove(owner);
                retry = others;
            } else {
                for (int j = 0; j < group.size(); j++) {
                    group.get(j).result.completeExceptionally(cause instanceof ZkCalls.MultiFailure mf
                            ? new ZkCalls.MultiFailure(mf.code, local(multi, j, mf.results)) : cause);
                }
            }
        }
        return retry;
    }

    /** The multi's slot is free: resend what must go again, else the batches that queued meanwhile. */
    private void next(List<Member> retry) {
        if (!retry.isEmpty()) {
            Supplier<? extends RuntimeException> closing;
            synchronized (groupLock) {
                closing = closedBy;
                multisInFlight += closing == null ? retry.size() - 1 : -1;
            }
            if (closing != null) {
                // their multi failed as a whole, so nothing of theirs applied
                for (Member m : retry) {
                    m.result.completeExceptionally(closing.get());
                }
                return;
            }
            for (Member m : retry) {
                sendGroup(List.of(m));
            }
            return;
        }
        List<Member> group;
        synchronized (groupLock) {
            // a slot a failed group's resends took beyond the cap goes back: kept, group commit would slide into one multi a batch
            group = multisInFlight > MAX_MULTIS_IN_FLIGHT ? List.of() : take();
            if (group.isEmpty()) {
                multisInFlight--;
                return;
            }
            if (group.size() > 1) {
                coalescedMultis++;
            }
        }
        sendGroup(group);
    }

    /** Takes the longest prefix of the waiting batches that fits one multi (one session, request size, batch count). */
    private List<Member> take() {
        List<Member> group = new ArrayList<>();
        long size = 0;
        while (!waiting.isEmpty() && group.size() < ZnodeLayout.MAX_SUBS) {
            Member m = waiting.peekFirst();
            // one more byte per op for the batch index in values and entries
            long more = m.size + m.ops.size();
            if (!group.isEmpty() && (m.zk != group.get(0).zk || size + more > maxRequestBytes)) {
                break;
            }
            group.add(waiting.pollFirst());
            size += more;
        }
        return group;
    }

    /**
     * A coalesced multi: {@code ops} as sent; {@code where[j][i]} the index in {@code ops} of the
     * {@code i}-th op of the {@code j}-th batch's own multi (plan ops, {@code setData(seq)}, its entry);
     * {@code addedBy[k]} the batch that put op {@code k} there (-1 for {@code seq}); {@code shared} how
     * many guard ops were left out because an earlier batch's identical guard stands for them.
     */
    record Combined(List<Op> ops, int[][] where, int[] addedBy, int shared) {

        /** The batch whose op failed the multi, or -1 (the shared seq op, or unknown). */
        int owner(int failedOp) {
            return failedOp >= 0 && failedOp < addedBy.length ? addedBy[failedOp] : -1;
        }
    }

    /**
     * Lays the batches' multis ({@code plan ops, setData(seq), entry} each) out as one: each batch's
     * ops (values and entry marked with its index), then one {@code setData(seq)}.
     *
     * <p>Batches under one key carry the same guards — a {@code check} of every ancestor's version,
     * the {@code create}+{@code delete} that proves a lock key absent — and ZooKeeper pays for every
     * op of a multi (in a 16-writer benchmark a coalesced multi held about five saves in 58 ops, most
     * of them guards). A guard is left
     * out when the last op of the multi so far on its znode is the identical guard: nothing between
     * the two changed that znode (every op that can change a znode names it), so the later one would
     * succeed exactly when the earlier one did. A multi is atomic, so this changes nothing of what
     * commits; if the earlier guard fails, its batch owns the failure and the others go again alone,
     * as before.
     */
    static Combined combine(List<List<Op>> batches, String seqPath) {
        List<Op> ops = new ArrayList<>();
        List<Integer> addedBy = new ArrayList<>();
        Map<String, Integer> lastOn = new HashMap<>();
        int[][] where = new int[batches.size()][];
        int shared = 0;
        for (int j = 0; j < batches.size(); j++) {
            List<Op> mine = batches.get(j);
            int plan = mine.size() - 2;
            int[] w = new int[mine.size()];
            for (int i = 0; i < plan; i++) {
                Op op = withSub(mine.get(i), j, false);
                Integer last = lastOn.get(op.getPath());
                if (last != null && op.getType() == ZooDefs.OpCode.check && sameGuard(ops.get(last), op)) {
                    w[i] = last;
                    shared++;
                    continue;
                }
                if (last != null && i + 1 < plan && isAbsentProof(op, mine.get(i + 1)) && last > 0
                        && isAbsentProof(ops.get(last - 1), ops.get(last)) && sameGuard(ops.get(last - 1), op)) {
                    w[i] = last - 1;
                    w[++i] = last;
                    shared += 2;
                    continue;
                }
                w[i] = add(ops, addedBy, lastOn, op, j);
            }
            w[mine.size() - 1] = add(ops, addedBy, lastOn, withSub(mine.get(mine.size() - 1), j, true), j);
            where[j] = w;
        }
        int seq = add(ops, addedBy, lastOn, Op.setData(seqPath, ZnodeLayout.seqData(batches.size() - 1), -1), -1);
        for (int j = 0; j < batches.size(); j++) {
            where[j][batches.get(j).size() - 2] = seq;
        }
        return new Combined(ops, where, addedBy.stream().mapToInt(Integer::intValue).toArray(), shared);
    }

    private static int add(List<Op> ops, List<Integer> addedBy, Map<String, Integer> lastOn, Op op, int batch) {
        lastOn.put(op.getPath(), ops.size());
        ops.add(op);
        addedBy.add(batch);
        return ops.size() - 1;
    }

    /** The planner's proof that a znode is absent: {@code create} of it with no data, then its {@code delete}. */
    private static boolean isAbsentProof(Op create, Op delete) {
        return create.getType() == ZooDefs.OpCode.create && delete.getType() == ZooDefs.OpCode.delete
                && create.getPath().equals(delete.getPath()) && ((CreateRequest) create.toRequestRecord()).getData().length == 0
                && ((DeleteRequest) delete.toRequestRecord()).getVersion() == -1;
    }

    /** Two guard ops of one znode that succeed or fail alike: the same check version, or the same empty create. */
    private static boolean sameGuard(Op a, Op b) {
        if (a.getType() != b.getType() || !a.getPath().equals(b.getPath())) {
            return false;
        }
        if (a.getType() == ZooDefs.OpCode.check) {
            return ((CheckVersionRequest) a.toRequestRecord()).getVersion() == ((CheckVersionRequest) b.toRequestRecord()).getVersion();
        }
        if (a.getType() == ZooDefs.OpCode.create) {
            CreateRequest ra = (CreateRequest) a.toRequestRecord();
            CreateRequest rb = (CreateRequest) b.toRequestRecord();
            return ra.getData().length == 0 && rb.getData().length == 0 && ra.getFlags() == rb.getFlags() && ra.getAcl().equals(rb.getAcl());
        }
        return false;
    }

    /** A batch's results in the layout of its own multi: plan ops, seq, entry. */
    private static List<OpResult> local(Combined multi, int j, List<OpResult> results) {
        if (multi == null || results == null) {
            return results;
        }
        int[] w = multi.where()[j];
        List<OpResult> out = new ArrayList<>(w.length);
        for (int k : w) {
            out.add(results.get(k));
        }
        return out;
    }

    /** The op with a value's or a log entry's bytes marked as the {@code sub}-th batch's; other ops as they are. */
    private static Op withSub(Op op, int sub, boolean logEntry) {
        if (op.getType() == ZooDefs.OpCode.setData) {
            SetDataRequest r = (SetDataRequest) op.toRequestRecord();
            byte[] marked = ZnodeLayout.withSub(r.getData(), sub, logEntry);
            return marked == null ? op : Op.setData(r.getPath(), marked, r.getVersion());
        }
        if (op.getType() == ZooDefs.OpCode.create) {
            CreateRequest r = (CreateRequest) op.toRequestRecord();
            byte[] marked = ZnodeLayout.withSub(r.getData(), sub, logEntry);
            return marked == null ? op : Op.create(r.getPath(), marked, r.getAcl(), CreateMode.fromFlag(r.getFlags(), CreateMode.PERSISTENT));
        }
        return op;
    }

    private static Footprint footprint(WriteBatch batch) {
        Set<RegistryPath> keys = new LinkedHashSet<>();
        Set<ValueRef> values = new LinkedHashSet<>();
        for (BatchCommand c : batch.commands()) {
            String name = c.valueName();
            if (name == null) {
                keys.add(c.key());
            } else {
                values.add(new ValueRef(c.key(), name));
            }
        }
        Set<RegistryPath> valueKeys = new LinkedHashSet<>();
        values.forEach(v -> valueKeys.add(v.key()));
        return new Footprint(keys, values, valueKeys, ancestorsOrSelf(valueKeys), ancestorsOrSelf(keys));
    }
}
