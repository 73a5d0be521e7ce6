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
import org.apache.zookeeper.proto.CreateRequest;
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
    private long coalescedMultis;

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
                addAll(before, valueAt.get(v)); // the same value
            }
            for (RegistryPath k : fp.valueKeys()) {
                // a key-level command on a value's key or above it, or below it (a delete or create there)
                addAll(before, keyUnder.get(k));
                for (RegistryPath a = k; !a.isRoot(); ) {
                    a = a.parent();
                    addAll(before, keyAt.get(a));
                }
            }
            for (RegistryPath k : fp.keys()) {
                // anything at or below the key, and key-level commands above it
                addAll(before, keyUnder.get(k));
                addAll(before, valueUnder.get(k));
                for (RegistryPath a = k; !a.isRoot(); ) {
                    a = a.parent();
                    addAll(before, keyAt.get(a));
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
        me.done.complete(null);
    }

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

    /** Multis that carried more than one batch (for tests). */
    long coalescedMultis() {
        synchronized (groupLock) {
            return coalescedMultis;
        }
    }

    private void sendGroup(List<Member> group) {
        List<Op> ops;
        int[] starts = new int[group.size()];
        if (group.size() == 1) {
            ops = group.get(0).ops;
        } else {
            ops = new ArrayList<>();
            for (int j = 0; j < group.size(); j++) {
                List<Op> mine = group.get(j).ops;
                starts[j] = ops.size();
                for (int i = 0; i < mine.size() - 2; i++) {
                    ops.add(withSub(mine.get(i), j, false));
                }
                ops.add(withSub(mine.get(mine.size() - 1), j, true));
            }
            ops.add(Op.setData(seqPath, ZnodeLayout.seqData(group.size() - 1), -1));
        }
        String[] entries = new String[group.size()];
        for (int j = 0; j < group.size(); j++) {
            // each batch's change-log entry: the last of its own ops, its place in the coalesced multi
            Op entry = ops.get(group.size() == 1 ? ops.size() - 1 : starts[j] + group.get(j).ops.size() - 2);
            entries[j] = entry.getPath();
            entrySent.accept(entry);
        }
        deadlines.watch(ZkCalls.multi(group.get(0).zk, ops, results -> {
            for (int j = 0; j < group.size(); j++) {
                group.get(j).applied.accept(local(group, j, starts, results), j);
            }
        })).whenComplete((results, t) -> {
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
                retry = settle(group, starts, results, t);
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
    private static List<Member> settle(List<Member> group, int[] starts, List<OpResult> results, Throwable t) {
        List<Member> retry = List.of();
        if (t == null) {
            for (int j = 0; j < group.size(); j++) {
                group.get(j).result.complete(new Sent(local(group, j, starts, results), j));
            }
        } else {
            Throwable cause = ZkCalls.unwrap(t);
            if (group.size() == 1) {
                group.get(0).result.completeExceptionally(cause);
            } else if (cause instanceof ZkCalls.MultiFailure mf && owner(group, starts, mf.failedOp()) >= 0) {
                int owner = owner(group, starts, mf.failedOp());
                group.get(owner).result.completeExceptionally(new ZkCalls.MultiFailure(mf.code, local(group, owner, starts, mf.results)));
                // nothing of the multi applied: the others go again without the batch that failed it,
                // each alone so that further failing batches cost one round trip, not one each
                List<Member> others = new ArrayList<>(group);
                others.remove(owner);
                retry = others;
            } else {
                for (int j = 0; j < group.size(); j++) {
                    group.get(j).result.completeExceptionally(cause instanceof ZkCalls.MultiFailure mf
                            ? new ZkCalls.MultiFailure(mf.code, local(group, j, starts, mf.results)) : cause);
                }
            }
        }
        return retry;
    }

    /** The multi's slot is free: resend what must go again, else the batches that queued meanwhile. */
    private void next(List<Member> retry) {
        if (!retry.isEmpty()) {
            synchronized (groupLock) {
                multisInFlight += retry.size() - 1;
            }
            for (Member m : retry) {
                sendGroup(List.of(m));
            }
            return;
        }
        List<Member> group;
        synchronized (groupLock) {
            group = take();
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

    /** The batch whose op failed the multi, or -1 (the shared seq op, or unknown). */
    private static int owner(List<Member> group, int[] starts, int failedOp) {
        for (int j = group.size() - 1; j >= 0 && failedOp >= 0; j--) {
            if (failedOp >= starts[j]) {
                return failedOp < starts[j] + group.get(j).ops.size() - 1 ? j : -1;
            }
        }
        return -1;
    }

    /** A member's results in the layout of its own multi: plan ops, seq, entry. */
    private static List<OpResult> local(List<Member> group, int j, int[] starts, List<OpResult> results) {
        if (group.size() == 1 || results == null) {
            return results;
        }
        int plan = group.get(j).ops.size() - 2;
        List<OpResult> out = new ArrayList<>(plan + 2);
        for (int i = 0; i < plan; i++) {
            out.add(results.get(starts[j] + i));
        }
        out.add(results.get(results.size() - 1));
        out.add(results.get(starts[j] + plan));
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
