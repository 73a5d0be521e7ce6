package dev.reliablestore.it.chaos;

import dev.reliablestore.registry.ChangeBatch;
import dev.reliablestore.registry.ChangeListener;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.ClusterStatus;
import dev.reliablestore.registry.CommitResult;
import dev.reliablestore.registry.HealthFault;
import dev.reliablestore.registry.HealthReport;
import dev.reliablestore.registry.MembershipListener;
import dev.reliablestore.registry.ReadBatch;
import dev.reliablestore.registry.ReadBatchResult;
import dev.reliablestore.registry.RegistryLimits;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryUnavailableException;
import dev.reliablestore.registry.Subscription;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.registry.Watch;
import dev.reliablestore.registry.WriteBatch;

import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A {@link ClusterRegistry} in front of another that lets a test decide two timings the provider's
 * local cache depends on, so that a race becomes a deterministic sequence:
 * <ul>
 *   <li>{@link #holdFeed()}/{@link #releaseFeed()}: change-feed batches are queued instead of delivered
 *       (a slow feed; they are delivered in order on release);</li>
 *   <li>{@link #gateNextRead(Thread)}: the next {@code read} by that thread returns from the backend and
 *       then waits until {@link #openReadGate()} (a reader descheduled between its read and its cache fill);</li>
 *   <li>{@link #failNextCommits(CommitFault...)}: the next commits fail as scripted, with the
 *       {@code RegistryUnavailableException} a backend throws when the connection is lost.</li>
 * </ul>
 */
final class GatedRegistry implements ClusterRegistry {

    private final ClusterRegistry d;
    private final Object feedLock = new Object();
    private final ArrayDeque<Runnable> held = new ArrayDeque<>();
    private boolean holding;
    private volatile Thread gatedThread;
    private volatile boolean gateReached;
    private final CountDownLatch gate = new CountDownLatch(1);
    private final java.util.concurrent.ConcurrentLinkedQueue<CommitFault> commitFaults = new java.util.concurrent.ConcurrentLinkedQueue<>();

    /** How a scripted commit fails. */
    enum CommitFault {
        /** The batch is applied, then the answer is lost: {@code outcomeUnknown() == true}. */
        APPLIED_ANSWER_LOST,
        /** Nothing is sent (no connection): {@code outcomeUnknown() == false}. */
        NOT_SENT
    }

    GatedRegistry(ClusterRegistry delegate) {
        this.d = delegate;
    }

    void holdFeed() {
        synchronized (feedLock) {
            holding = true;
        }
    }

    void releaseFeed() {
        synchronized (feedLock) {
            holding = false;
            while (!held.isEmpty()) {
                held.poll().run();
            }
        }
    }

    void gateNextRead(Thread thread) {
        gatedThread = thread;
    }

    boolean gateReached() {
        return gateReached;
    }

    void openReadGate() {
        gate.countDown();
    }

    private void deliver(Runnable delivery) {
        synchronized (feedLock) {
            if (holding) {
                held.add(delivery);
            } else {
                delivery.run();
            }
        }
    }

    @Override
    public Watch watch(RegistryPath subtree, ChangeListener listener) {
        return d.watch(subtree, gated(listener));
    }

    @Override
    public Watch watch(RegistryPath subtree, long afterSequence, ChangeListener listener) {
        return d.watch(subtree, afterSequence, gated(listener));
    }

    @Override
    public long replayableAfter() {
        return d.replayableAfter();
    }

    private ChangeListener gated(ChangeListener listener) {
        return new ChangeListener() {
            @Override
            public void onBatch(ChangeBatch batch) {
                deliver(() -> listener.onBatch(batch));
            }

            @Override
            public void onResync(String reason) {
                deliver(() -> listener.onResync(reason));
            }
        };
    }

    @Override
    public ReadBatchResult read(ReadBatch batch) {
        ReadBatchResult r = d.read(batch);
        if (Thread.currentThread() == gatedThread) {
            gatedThread = null;
            gateReached = true;
            try {
                if (!gate.await(60, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("the read gate was never opened");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        return r;
    }

    @Override public String uri() { return d.uri(); }
    @Override public RegistryLimits limits() { return d.limits(); }
    @Override public Optional<VersionedValue> getValue(RegistryPath key, String name) { return d.getValue(key, name); }
    @Override public boolean keyExists(RegistryPath key) { return d.keyExists(key); }
    @Override public List<String> subkeys(RegistryPath key) { return d.subkeys(key); }
    @Override public Map<String, VersionedValue> values(RegistryPath key) { return d.values(key); }
    @Override public long currentSequence() { return d.currentSequence(); }
    /** Scripted commit faults not used yet (a test asserts its fault was met). */
    int commitFaultsLeft() {
        return commitFaults.size();
    }

    void failNextCommits(CommitFault... faults) {
        commitFaults.addAll(List.of(faults));
    }

    @Override
    public CommitResult commit(WriteBatch batch) {
        CommitFault fault = commitFaults.poll();
        if (fault == CommitFault.APPLIED_ANSWER_LOST) {
            d.commit(batch);
            throw new RegistryUnavailableException("connection lost after the batch was sent (scripted by the test)", null, true);
        }
        if (fault == CommitFault.NOT_SENT) {
            throw new RegistryUnavailableException("not connected, nothing sent (scripted by the test)", null, false);
        }
        return d.commit(batch);
    }
    @Override public CompletableFuture<CommitResult> commitAsync(WriteBatch batch) { return d.commitAsync(batch); }
    @Override public CompletableFuture<CommitResult> syncCommitAsync(WriteBatch batch) { return d.syncCommitAsync(batch); }
    @Override public boolean appliesBeforeCommitAsyncReturns() { return d.appliesBeforeCommitAsyncReturns(); }
    @Override public long awaitDurable() { return d.awaitDurable(); }
    @Override public ClusterStatus status() { return d.status(); }
    @Override public boolean listsEveryNode() { return d.listsEveryNode(); }
    @Override public void readBarrier() { d.readBarrier(); }
    @Override public Subscription addMembershipListener(MembershipListener listener) { return d.addMembershipListener(listener); }
    @Override public HealthReport checkHealth() { return d.checkHealth(); }
    @Override public List<HealthFault> healthFaults() { return d.healthFaults(); }
    @Override public void addHealthFault(HealthFault fault) { d.addHealthFault(fault); }
    @Override public boolean removeHealthFault(String id) { return d.removeHealthFault(id); }
    @Override public void close() { d.close(); }
}
