package dev.reliablestore.registry.clusapi;

import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.MembershipEvent;
import dev.reliablestore.registry.NoSuchKeyException;
import dev.reliablestore.registry.NodeState;
import dev.reliablestore.registry.ReadBatch;
import dev.reliablestore.registry.ReadBatchResult;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryUnavailableException;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.Watch;
import dev.reliablestore.registry.WriteBatch;
import dev.reliablestore.registry.ChangeBatch;
import dev.reliablestore.registry.ChangeListener;
import dev.reliablestore.registry.Subscription;
import dev.reliablestore.registry.clusapi.jna.ClusApi;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes.HREGREADBATCHREPLY;
import com.sun.jna.ptr.PointerByReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static dev.reliablestore.registry.clusapi.jna.ClusApiTypes.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Native calls racing other work: a key deleted under a read or a commit's probe, errors that say the
 * cluster is unavailable, a batch notification port closed while its reader is about to call, and
 * membership changes while a listener subscribes. Each race is forced by a {@link ClusApi} proxy over
 * the fake that acts at a chosen call.
 */
class ClusapiRacesTest {

    private static final RegistryPath K = RegistryPath.parse("k");
    private static final ChangeListener IGNORE = new ChangeListener() {
        @Override
        public void onBatch(ChangeBatch batch) {
        }

        @Override
        public void onResync(String reason) {
        }
    };
    private final FakeClusApi fake = new FakeClusApi("FAKECLUSTER", "NODE1", "NODE2");
    private final List<ClusterRegistry> opened = new ArrayList<>();

    /** What a proxy runs before (and after) delegating a call to the fake. */
    private interface Hook {
        void before(Method m, Object[] args) throws Exception;

        default void after(Method m, Object[] args) {
        }
    }

    private ClusApi intercepted(Hook hook) {
        return (ClusApi) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[]{ClusApi.class}, (proxy, method, args) -> {
            hook.before(method, args);
            try {
                return method.invoke(fake, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            } finally {
                hook.after(method, args);
            }
        });
    }

    private ClusapiRegistry open(ClusApi api) {
        ClusapiRegistry r = ClusapiRegistry.open(ClusapiOptions.parse(URI.create("clusapi://FAKECLUSTER/Software/RS"),
                Map.of("localNode", "NODE1")), new ClusapiNatives(api, fake, fake, fake.waiter()));
        opened.add(r);
        return r;
    }

    @AfterEach
    void closeAll() {
        opened.forEach(ClusterRegistry::close);
    }

    /** A reader whose first call of {@code function} (while armed) first deletes {@link #K} through {@code writer}. */
    private ClusapiRegistry readerDeletingOn(String function, String valueName, AtomicBoolean armed, ClusterRegistry writer) {
        return open(intercepted((m, args) -> {
            if (m.getName().equals(function) && (valueName == null || valueName.equals(args[1])) && armed.compareAndSet(true, false)) {
                writer.commit(WriteBatch.builder().deleteKey(K).build());
            }
        }));
    }

    private static void seed(ClusterRegistry writer) {
        writer.commit(WriteBatch.builder().setValue(K, "v", RegistryValue.dword(1)).setValue(K, "w", RegistryValue.dword(2))
                .createKey(K.child("c")).build());
    }

    // ---- 1. a key deleted under a read or a probe ---------------------------------------------------

    @Test
    void valuesOfAKeyDeletedWhileTheyAreEnumeratedIsNoSuchKey() {
        ClusterRegistry writer = open(fake);
        AtomicBoolean armed = new AtomicBoolean();
        ClusterRegistry reader = readerDeletingOn("ClusterRegEnumValue", null, armed, writer);
        seed(writer);
        armed.set(true);
        assertThatThrownBy(() -> reader.values(K)).isInstanceOf(NoSuchKeyException.class);
        assertThat(armed).as("the delete ran inside the enumeration").isFalse();
    }

    @Test
    void subkeysOfAKeyDeletedWhileTheyAreEnumeratedIsNoSuchKey() {
        ClusterRegistry writer = open(fake);
        AtomicBoolean armed = new AtomicBoolean();
        ClusterRegistry reader = readerDeletingOn("ClusterRegEnumKey", null, armed, writer);
        seed(writer);
        armed.set(true);
        assertThatThrownBy(() -> reader.subkeys(K)).isInstanceOf(NoSuchKeyException.class);
        assertThat(armed).as("the delete ran inside the enumeration").isFalse();
    }

    @Test
    void aReadBatchRacingADeleteAnswersFromOneStateAfterIt() {
        for (String function : List.of("ClusterRegEnumValue", "ClusterRegEnumKey")) {
            ClusterRegistry writer = open(fake); // one fake: each round seeds the key again
            AtomicBoolean armed = new AtomicBoolean();
            ClusterRegistry reader = readerDeletingOn(function, null, armed, writer);
            seed(writer);
            armed.set(true);
            ReadBatchResult r = reader.read(ReadBatch.of(new ReadBatch.ValueRead(K, "v"), new ReadBatch.ValuesRead(K),
                    new ReadBatch.SubkeysRead(K)));
            assertThat(armed).as(function + " raced the delete").isFalse();
            assertThat(r.value(0)).as(function).isEmpty();
            assertThat(r.values(1)).as(function).isEmpty();
            assertThat(r.subkeys(2)).as(function).isEmpty();
            assertThat(r.sequence()).isEqualTo(writer.currentSequence());
        }
    }

    @Test
    void aCommitWhoseProbeRacesADeleteIsPlannedAgain() {
        ClusterRegistry writer = open(fake);
        AtomicBoolean armed = new AtomicBoolean();
        // the DeleteValue probes whether "v" exists: ClusterRegQueryValue on the opened key
        ClusterRegistry reader = readerDeletingOn("ClusterRegQueryValue", NativeNames.value("v"), armed, writer);
        seed(writer);
        armed.set(true);
        reader.commit(WriteBatch.builder().deleteValue(K, "v").build());
        assertThat(armed).as("the delete ran inside the probe").isFalse();
        assertThat(reader.keyExists(K)).isFalse();
        assertThat(fake.usesAfterFree()).isZero();
    }

    // ---- 2. errors that say the cluster is unavailable ---------------------------------------------

    private static final int[] UNAVAILABLE = {ERROR_CLUSTER_NO_QUORUM, ERROR_CLUSTER_NODE_DOWN, ERROR_NODE_NOT_AVAILABLE,
            ERROR_SHARING_PAUSED, RPC_S_CALL_CANCELLED, RPC_S_COMM_FAILURE};

    @Test
    void aCommitFailingWithNoQuorumOrANodeDownHasAnUnknownOutcome() {
        ClusterRegistry r = open(fake);
        for (int code : UNAVAILABLE) {
            String name = ClusterApiException.symbolicName(code);
            fake.injectCloseBatchError(code, true);
            assertThatThrownBy(() -> r.commit(WriteBatch.builder().setValue(K, name, RegistryValue.dword(code)).build()))
                    .as(name).isInstanceOfSatisfying(RegistryUnavailableException.class, e -> assertThat(e.outcomeUnknown()).isTrue())
                    .hasMessageContaining(name + " (" + code + ")");
            assertThat(r.getValue(K, name)).as(name + ": it had been applied").isPresent();
        }
    }

    @Test
    void aReadFailingWithNoQuorumOrANodeDownIsUnavailable() {
        AtomicInteger fail = new AtomicInteger();
        ClusapiRegistry r = open((ClusApi) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[]{ClusApi.class},
                (proxy, method, args) -> {
                    try {
                        Object out = method.invoke(fake, args);
                        int code = fail.get();
                        if (method.getName().equals("ClusterRegCloseReadBatchEx") && code != 0 && fail.compareAndSet(code, 0)) {
                            // as the DLL fails it: the batch freed, no reply handed over
                            fake.ClusterRegCloseReadBatchReply(new HREGREADBATCHREPLY(((PointerByReference) args[2]).getValue()));
                            return code;
                        }
                        return out;
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                }));
        r.commit(WriteBatch.builder().setValue(K, "v", RegistryValue.dword(1)).build());
        for (int code : UNAVAILABLE) {
            fail.set(code);
            assertThatThrownBy(() -> r.getValue(K, "v")).as(ClusterApiException.symbolicName(code))
                    .isInstanceOfSatisfying(RegistryUnavailableException.class, e -> assertThat(e.outcomeUnknown()).isFalse())
                    .hasMessageContaining(ClusterApiException.symbolicName(code));
            assertThat(r.getValue(K, "v")).isPresent();
        }
    }

    // ---- 3. the batch notification port closed while a call is about to use it -----------------------

    @Test
    void aWatchClosedWhileItsReaderIsAboutToWaitNeverFreesThePortUnderIt() throws Exception {
        CountDownLatch aboutToCall = new CountDownLatch(1);
        CountDownLatch enter = new CountDownLatch(1);
        CountDownLatch closerCalled = new CountDownLatch(1);
        AtomicBoolean armed = new AtomicBoolean(true);
        AtomicReference<Thread> closer = new AtomicReference<>();
        ClusapiRegistry r = open(intercepted(new Hook() {
            @Override
            public void before(Method m, Object[] args) throws Exception {
                if (m.getName().equals("ClusterRegGetBatchNotification") && armed.compareAndSet(true, false)) {
                    aboutToCall.countDown(); // the reader passed every check of its own and is entering the DLL
                    assertThat(enter.await(30, TimeUnit.SECONDS)).isTrue();
                }
            }

            @Override
            public void after(Method m, Object[] args) {
                if (Thread.currentThread() == closer.get()) {
                    closerCalled.countDown();
                }
            }
        }));
        int before = fake.openHandles();
        Watch w = r.watch(RegistryPath.root(), IGNORE);
        assertThat(aboutToCall.await(30, TimeUnit.SECONDS)).isTrue();
        Thread t = new Thread(w::close, "watch-closer");
        closer.set(t);
        t.start();
        // close() has done what it does to the port and waits for the reader
        assertThat(closerCalled.await(30, TimeUnit.SECONDS)).isTrue();
        await().atMost(Duration.ofSeconds(30)).until(() -> !t.isAlive() || t.getState() == Thread.State.TIMED_WAITING);
        enter.countDown();
        t.join(60_000);
        assertThat(t.isAlive()).isFalse();
        assertThat(fake.usesAfterFree()).as("calls handed a freed port").isZero();
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(fake.openHandles()).as("the port is freed").isEqualTo(before));
    }

    @Test
    void aWatchClosedWhileItsReaderWaitsEndsTheWaitAndFreesThePort() {
        ClusapiRegistry r = open(fake);
        int before = fake.openHandles();
        java.util.Set<Thread> earlier = Thread.getAllStackTraces().keySet();
        Watch w = r.watch(RegistryPath.root(), IGNORE);
        List<Thread> waiting = readersWaiting(earlier);
        w.close();
        await().atMost(Duration.ofSeconds(30)).until(() -> waiting.stream().noneMatch(Thread::isAlive));
        assertThat(fake.openHandles()).isEqualTo(before);
        assertThat(fake.usesAfterFree()).isZero();
        // the wake changed nothing a reader can see
        assertThat(r.currentSequence()).isZero();
        assertThat(fake.rawValueNames("Software\\RS")).doesNotContain(Reserved.WAKE);
    }

    /**
     * The cluster does not take the wake batch (no quorum: often why a registry is being closed): the
     * port is freed under the waiting call, which ends it, rather than left to a call that may wait for
     * ever while the registry closes its handles.
     */
    @Test
    void aWatchWhoseWakeBatchFailsIsStillEndedAndItsPortFreed() {
        ClusapiRegistry r = open(fake);
        int before = fake.openHandles();
        java.util.Set<Thread> earlier = Thread.getAllStackTraces().keySet();
        Watch w = r.watch(RegistryPath.root(), IGNORE);
        List<Thread> waiting = readersWaiting(earlier);
        fake.injectCloseBatchError(ERROR_CLUSTER_NO_QUORUM, false); // the wake batch
        w.close();
        await().atMost(Duration.ofSeconds(30)).until(() -> waiting.stream().noneMatch(Thread::isAlive));
        assertThat(fake.openHandles()).isEqualTo(before);
    }

    /** The watch reader threads started after {@code earlier}, once one of them waits for a notification. */
    private static List<Thread> readersWaiting(java.util.Set<Thread> earlier) {
        List<Thread> waiting = new CopyOnWriteArrayList<>();
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            waiting.clear();
            Thread.getAllStackTraces().keySet().stream().filter(th -> !earlier.contains(th) && th.getName().startsWith("clusapi-watch-reader")
                    && th.getState() == Thread.State.WAITING).forEach(waiting::add);
            return !waiting.isEmpty();
        });
        return waiting;
    }

    // ---- 4. membership: the port before the snapshot, one close ----------------------------------------

    @Test
    void aNodeChangeWhileAListenerSubscribesIsNeitherLostNorMisreported() {
        for (boolean beforeRegistering : new boolean[]{true, false}) {
            fake.setNodeState("NODE2", ClusterNodeUp);
            AtomicBoolean armed = new AtomicBoolean(true);
            ClusapiRegistry r = open(intercepted(new Hook() {
                @Override
                public void before(Method m, Object[] args) {
                    if (beforeRegistering && m.getName().equals("CreateClusterNotifyPortV2") && armed.compareAndSet(true, false)) {
                        fake.setNodeState("NODE2", ClusterNodeDown);
                    }
                }

                @Override
                public void after(Method m, Object[] args) {
                    if (!beforeRegistering && m.getName().equals("CreateClusterNotifyPortV2") && armed.compareAndSet(true, false)) {
                        fake.setNodeState("NODE2", ClusterNodeDown);
                    }
                }
            }));
            List<MembershipEvent> events = new CopyOnWriteArrayList<>();
            Subscription s = r.addMembershipListener(events::add);
            try {
                assertThat(armed).isFalse();
                fake.setNodeState("NODE2", ClusterNodeUp);
                MembershipEvent.NodeStateChanged back = new MembershipEvent.NodeStateChanged("NODE2", NodeState.DOWN, NodeState.UP);
                await("NODE2 coming back is reported against its state when subscribed").atMost(Duration.ofSeconds(30))
                        .until(() -> events.contains(back));
                // every report starts where the previous one ended
                NodeState at = null;
                for (MembershipEvent e : events) {
                    if (e instanceof MembershipEvent.NodeStateChanged c && c.node().equals("NODE2")) {
                        assertThat(at == null || c.oldState() == at).as("events " + events).isTrue();
                        at = c.newState();
                    }
                }
                assertThat(at).isEqualTo(NodeState.UP);
            } finally {
                s.close();
            }
        }
    }

    /**
     * close() ends the port thread's wait at once, through the port's stop event: here the thread waits
     * without a time slice (INFINITE), so only a signalled handle ends the wait. Without the stop event
     * close() would give up waiting for the thread and close the port under its wait (which then fails).
     */
    @Test
    void closingANotificationPortEndsItsThreadsWaitAtOnce() throws Exception {
        EventWaiter fakes = fake.waiter();
        List<Integer> waits = new CopyOnWriteArrayList<>();
        CountDownLatch waiting = new CountDownLatch(1);
        EventWaiter infinite = new EventWaiter() {
            @Override
            public int waitForAny(com.sun.jna.platform.win32.WinNT.HANDLE[] handles, int millis) {
                waiting.countDown();
                int w = fakes.waitForAny(handles, -1);
                waits.add(w);
                return w;
            }

            @Override
            public com.sun.jna.platform.win32.WinNT.HANDLE createEvent() {
                return fakes.createEvent();
            }

            @Override
            public boolean setEvent(com.sun.jna.platform.win32.WinNT.HANDLE event) {
                return fakes.setEvent(event);
            }

            @Override
            public void closeEvent(com.sun.jna.platform.win32.WinNT.HANDLE event) {
                fakes.closeEvent(event);
            }
        };
        try (Cluster c = Cluster.open(fake, null)) {
            NotificationPort p = new NotificationPort(c, List.of(new long[]{CLUSTER_OBJECT_TYPE_NODE, CLUSTER_CHANGE_NODE_STATE_V2}),
                    infinite, e -> { }, () -> { }, "port");
            p.start();
            assertThat(waiting.await(30, TimeUnit.SECONDS)).isTrue();
            p.close();
            assertThat(waits).as("the thread's waits, ended by close()").containsExactly(EventWaiter.WAIT_OBJECT_0 + 1);
        }
        assertThat(fake.openHandles()).as("the port, its stop event and the cluster handle are closed").isZero();
    }

    /**
     * Two threads close one port at the same instant, round after round. The race is a check and a
     * set next to each other, so no hook can hold a thread between them: the closers leave a spin
     * barrier together to make them meet often.
     */
    @Test
    void aNotificationPortClosedByTwoThreadsAtOnceIsClosedOnce() throws Exception {
        AtomicInteger closes = new AtomicInteger();
        ClusApi counting = intercepted((m, args) -> {
            if (m.getName().equals("CloseClusterNotifyPort")) {
                closes.incrementAndGet();
            }
        });
        int rounds = 5_000;
        AtomicReference<NotificationPort> current = new AtomicReference<>();
        AtomicInteger[] arrived = {new AtomicInteger(), new AtomicInteger()};
        AtomicInteger closed = new AtomicInteger();
        java.util.concurrent.Semaphore roundDone = new java.util.concurrent.Semaphore(0);
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        try (Cluster c = Cluster.open(counting, null)) {
            List<Thread> closers = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                int me = t;
                Thread th = new Thread(() -> {
                    try {
                        NotificationPort last = null;
                        for (int round = 1; round <= rounds; round++) {
                            NotificationPort p;
                            while ((p = current.get()) == null || p == last) {
                                Thread.yield(); // the test thread is making the port
                            }
                            last = p;
                            arrived[me].set(round);
                            while (arrived[1 - me].get() < round) {
                                Thread.onSpinWait();
                            }
                            p.close();
                            if (closed.incrementAndGet() % 2 == 0) {
                                roundDone.release();
                            }
                        }
                    } catch (RuntimeException | Error e) {
                        failures.add(e);
                        roundDone.release(rounds);
                    }
                }, "closer " + t);
                th.setDaemon(true);
                closers.add(th);
            }
            closers.forEach(Thread::start);
            for (int round = 1; round <= rounds && failures.isEmpty(); round++) {
                current.set(new NotificationPort(c, List.of(new long[]{CLUSTER_OBJECT_TYPE_NODE, CLUSTER_CHANGE_NODE_STATE_V2}),
                        fake.waiter(), e -> { }, () -> { }, "port " + round));
                assertThat(roundDone.tryAcquire(30, TimeUnit.SECONDS)).as("round " + round).isTrue();
            }
            for (Thread th : closers) {
                th.join(60_000);
            }
        }
        assertThat(failures).isEmpty();
        assertThat(closes.get()).as("CloseClusterNotifyPort calls for " + rounds + " ports").isEqualTo(rounds);
        assertThat(fake.usesAfterFree()).isZero();
    }
}
