package dev.reliablestore.registry.clusapi;

import com.sun.jna.platform.win32.WinError;
import com.sun.jna.platform.win32.WinNT;
import com.sun.jna.platform.win32.WinReg;
import com.sun.jna.ptr.IntByReference;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.CommitResult;
import dev.reliablestore.registry.ConditionFailedException;
import dev.reliablestore.registry.HealthFault;
import dev.reliablestore.registry.MembershipEvent;
import dev.reliablestore.registry.NodeState;
import dev.reliablestore.registry.RegistryArgumentException;
import dev.reliablestore.registry.RegistryCorruptedException;
import dev.reliablestore.registry.RegistryException;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryUnavailableException;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.registry.Watch;
import dev.reliablestore.registry.WriteBatch;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledOnOs;
import org.junit.jupiter.api.condition.OS;

import java.lang.reflect.Field;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static dev.reliablestore.registry.clusapi.jna.ClusApiTypes.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** What the conformance suite does not cover: the Windows mapping, error mapping, OS check, leaks, membership. */
class ClusapiBackendTest {

    private final FakeClusApi fake = new FakeClusApi("FAKECLUSTER", "NODE1", "NODE2");
    private final List<ClusterRegistry> opened = new ArrayList<>();

    private ClusterRegistry open(Map<String, String> options) {
        ClusapiOptions o = ClusapiOptions.parse(URI.create("clusapi://FAKECLUSTER/Software/RS"), options);
        ClusterRegistry r = ClusapiRegistry.open(o, new ClusapiNatives(fake, fake, fake, fake.waiter()));
        opened.add(r);
        return r;
    }

    private ClusterRegistry open() {
        return open(Map.of("localNode", "NODE1"));
    }

    @AfterEach
    void closeAll() {
        opened.forEach(ClusterRegistry::close);
        assertThat(fake.openHandles()).as("native handles left open").isZero();
        assertThat(fake.unfreedHealthFaultArrays()).as("health fault arrays not freed").isZero();
    }

    @Test
    @DisabledOnOs(OS.WINDOWS)
    void openingOutsideWindowsFailsNamingTheOs() {
        assertThatThrownBy(() -> new ClusapiBackend().open(URI.create("clusapi://PROD-CLUSTER"), Map.of()))
                .isInstanceOf(RegistryUnavailableException.class)
                .hasMessageContaining("needs Windows")
                .hasMessageContaining(System.getProperty("os.name"))
                .hasMessageContaining("clusapi://PROD-CLUSTER/ReliableStore");
        assertThat(new ClusapiBackend().scheme()).isEqualTo("clusapi");
    }

    @Test
    void badOptionsAreRefusedOnEveryOs() {
        ClusapiBackend b = new ClusapiBackend();
        assertThatThrownBy(() -> b.open(URI.create("clusapi://c"), Map.of("grop", "x")))
                .isInstanceOf(RegistryArgumentException.class).hasMessageContaining("\"grop\"").hasMessageContaining("did you mean \"group\"");
        // a query is refused, not dropped: it would be read nowhere (options go in the options map)
        assertThatThrownBy(() -> b.open(URI.create("clusapi://c/Base?group=Data-RG"), Map.of()))
                .isInstanceOf(RegistryArgumentException.class).hasMessageContaining("group=Data-RG").hasMessageContaining("options map");
        assertThatThrownBy(() -> b.open(URI.create("clusapi://c"), Map.of("failedCommandBase", "2")))
                .isInstanceOf(RegistryArgumentException.class).hasMessageContaining("option failedCommandBase of the clusapi registry: 2 is out of range 0 .. 1");
        assertThatThrownBy(() -> b.open(URI.create("clusapi://c"), Map.of("maxBatchBytes", "1000")))
                .isInstanceOf(RegistryArgumentException.class).hasMessageContaining("option maxBatchBytes").hasMessageContaining("1000 is out of range");
        assertThatThrownBy(() -> b.open(URI.create("clusapi://c/a%5Cb"), Map.of()))
                .isInstanceOf(RegistryArgumentException.class).hasMessageContaining("'\\'");
        ClusapiOptions local = ClusapiOptions.parse(URI.create("clusapi:///Apps/Store"), Map.of("localNode", "N"));
        assertThat(local.clusterName()).isEmpty();
        assertThat(local.baseKeyPath()).isEqualTo("Apps\\Store");
        assertThat(local.uri()).isEqualTo("clusapi:///Apps/Store");
    }

    @Test
    void valuesAreStoredNativelyWithRevisionSiblingsAndASequence() {
        ClusterRegistry r = open();
        CommitResult c = r.commit(WriteBatch.builder().setValue(RegistryPath.parse("Entities/Customer"), "C-1",
                RegistryValue.sz("Ada")).build());
        assertThat(c.sequence()).isEqualTo(1);
        // key segments and value names in their case-preserving mapped form (NativeNames); the base key as given
        assertThat(fake.rawValue("Software\\RS\\^entities\\^customer", "^c-1"))
                .isEqualTo(new RegValue(REG_SZ, RegistryValue.sz("Ada").data()));
        assertThat(fake.rawValue("Software\\RS\\^entities\\^customer", "/rev/^c-1")).isEqualTo(new RegValue(REG_QWORD, Reserved.qword(1)));
        assertThat(fake.rawValue("Software\\RS", "/seq")).isEqualTo(new RegValue(REG_QWORD, Reserved.qword(1)));
        assertThat(r.values(RegistryPath.parse("Entities/Customer"))).containsOnlyKeys("C-1");
        assertThat(r.values(RegistryPath.root())).isEmpty(); // the reserved /seq and /batch are invisible
    }

    @Test
    void aValueWrittenOutsideReliableStoreIsReportedNotGuessed() {
        ClusterRegistry r = open();
        r.commit(WriteBatch.builder().createKey(RegistryPath.parse("k")).build());
        try (Cluster c = Cluster.open(fake, null); ClusterKey root = c.rootKey(KEY_ALL_ACCESS);
             ClusterKey k = root.open("Software\\RS\\k", KEY_ALL_ACCESS).orElseThrow()) {
            k.setValue("foreign", new RegValue(REG_DWORD, new byte[]{1, 0, 0, 0}));
        }
        assertThatThrownBy(() -> r.getValue(RegistryPath.parse("k"), "foreign"))
                .isInstanceOf(RegistryCorruptedException.class).hasMessageContaining("/rev/foreign")
                .hasMessageContaining("outside ReliableStore");
    }

    @Test
    void aNameTheMappingCannotHaveWrittenIsReportedNotGuessed() {
        ClusterRegistry r = open();
        r.commit(WriteBatch.builder().setValue(RegistryPath.parse("k"), "v", RegistryValue.dword(1)).build());
        try (Cluster c = Cluster.open(fake, null); ClusterKey root = c.rootKey(KEY_ALL_ACCESS);
             ClusterKey k = root.open("Software\\RS\\k", KEY_ALL_ACCESS).orElseThrow()) {
            k.setValue("Foreign", new RegValue(REG_DWORD, new byte[]{1, 0, 0, 0}));
            k.setValue("/rev/Foreign", new RegValue(REG_QWORD, Reserved.qword(1)));
            k.create("Sub", KEY_ALL_ACCESS).close();
        }
        assertThatThrownBy(() -> r.values(RegistryPath.parse("k")))
                .isInstanceOf(RegistryCorruptedException.class).hasMessageContaining("\"Foreign\"")
                .hasMessageContaining("outside ReliableStore");
        assertThatThrownBy(() -> r.subkeys(RegistryPath.parse("k")))
                .isInstanceOf(RegistryCorruptedException.class).hasMessageContaining("\"Sub\"");
        // what the mapping did write is still read by name (a foreign name that folds onto a mapped
        // one, like "Foreign" onto "foreign", is found under it: writes by other programs are out of contract)
        assertThat(r.getValue(RegistryPath.parse("k"), "v")).isPresent();
    }

    @Test
    void aConnectionLostDuringCommitReportsAnUnknownOutcome() {
        ClusterRegistry r = open();
        fake.injectCloseBatchError(RPC_S_CALL_FAILED, true);
        assertThatThrownBy(() -> r.commit(WriteBatch.builder().setValue(RegistryPath.parse("a"), "v", RegistryValue.dword(1)).build()))
                .isInstanceOfSatisfying(RegistryUnavailableException.class, e -> assertThat(e.outcomeUnknown()).isTrue())
                .hasMessageContaining("RPC_S_CALL_FAILED");
        assertThat(r.getValue(RegistryPath.parse("a"), "v")).isPresent(); // it had been applied: "read to find out"
        // the server's own answer, not a lost one or an unavailable cluster: it backs a failed batch out (MS-CMRP ApiExecuteBatch)
        fake.injectCloseBatchError(ERROR_GEN_FAILURE, false);
        assertThatThrownBy(() -> r.commit(WriteBatch.builder().setValue(RegistryPath.parse("b"), "v", RegistryValue.dword(1)).build()))
                .isInstanceOf(ClusterApiException.class).hasMessageContaining("ERROR_GEN_FAILURE (31)");
        assertThat(r.keyExists(RegistryPath.parse("b"))).isFalse();
    }

    // clusapi.dll reconnects and reissues ApiExecuteBatch after a lost answer (MS-CMRP 3.2.4.6): when the
    // first execution was applied, the reissue fails the sequence check the first one moved

    @Test
    void aConditionalBatchTheDllReissuesAfterApplyingItIsReportedCommitted() {
        ClusterRegistry r = open();
        RegistryPath k = RegistryPath.parse("counter");
        long created = r.commit(WriteBatch.builder().setValue(k, "n", RegistryValue.qword(0)).build()).sequence();
        fake.reissueNextCloseBatch(() -> { });
        CommitResult cas = r.commit(WriteBatch.builder().requireRevision(k, "n", created).setValue(k, "n", RegistryValue.qword(1)).build());
        assertThat(cas.sequence()).isEqualTo(created + 1);
        assertThat(r.getValue(k, "n")).contains(new VersionedValue(RegistryValue.qword(1), created + 1));
        assertThat(r.currentSequence()).isEqualTo(created + 1);
    }

    @Test
    void aBatchTheDllReissuesAfterApplyingItIsAppliedOnce() {
        ClusterRegistry r = open();
        RegistryPath k = RegistryPath.parse("counter");
        long created = r.commit(WriteBatch.builder().setValue(k, "n", RegistryValue.qword(0)).build()).sequence();
        fake.reissueNextCloseBatch(() -> { });
        CommitResult blind = r.commit(WriteBatch.builder().setValue(k, "m", RegistryValue.dword(7)).build());
        assertThat(blind.sequence()).isEqualTo(created + 1);
        assertThat(r.currentSequence()).as("applied once").isEqualTo(created + 1);
        assertThat(r.getValue(k, "m")).contains(new VersionedValue(RegistryValue.dword(7), created + 1));
    }

    @Test
    void aReissuedBatchIsAppliedOnceAlsoWhenAnotherWriterCommitsWhileTheDllReconnects() {
        ClusterRegistry r = open();
        ClusterRegistry other = open();
        RegistryPath k = RegistryPath.parse("counter");
        long created = r.commit(WriteBatch.builder().setValue(k, "n", RegistryValue.qword(0)).build()).sequence();

        fake.reissueNextCloseBatch(() -> other.commit(WriteBatch.builder().setValue(RegistryPath.parse("other"), "v",
                RegistryValue.dword(1)).build()));
        CommitResult cas = r.commit(WriteBatch.builder().requireRevision(k, "n", created).setValue(k, "n", RegistryValue.qword(1)).build());
        assertThat(cas.sequence()).isEqualTo(created + 1);
        assertThat(r.getValue(k, "n")).contains(new VersionedValue(RegistryValue.qword(1), created + 1));
        assertThat(r.currentSequence()).as("ours and the other writer's, once each").isEqualTo(created + 2);
    }

    @Test
    void aReissuedBatchWhoseIdWasDroppedMeanwhileHasAnUnknownOutcome() {
        ClusterRegistry r = open();
        ClusterRegistry other = open();
        RegistryPath k = RegistryPath.parse("k");
        fake.reissueNextCloseBatch(() -> {
            for (int i = 0; i < ClusapiRegistry.BATCH_IDS_KEPT; i++) {
                other.commit(WriteBatch.builder().setValue(RegistryPath.parse("other"), "v", RegistryValue.dword(i)).build());
            }
        });
        assertThatThrownBy(() -> r.commit(WriteBatch.builder().requireKeyAbsent(k).setValue(k, "v", RegistryValue.dword(1)).build()))
                .isInstanceOfSatisfying(RegistryUnavailableException.class, e -> assertThat(e.outcomeUnknown()).isTrue());
        assertThat(r.getValue(k, "v")).isPresent(); // it had been applied: "read to find out"
        assertThat(r.currentSequence()).isEqualTo(1 + ClusapiRegistry.BATCH_IDS_KEPT);
        assertThat(fake.rawValueNames("Software\\RS\\" + Reserved.BATCH_IDS)).hasSize(ClusapiRegistry.BATCH_IDS_KEPT);
    }

    @Test
    void twoRegistriesOnOneClusterSerialiseThroughTheSequence() throws Exception {
        ClusterRegistry a = open();
        ClusterRegistry b = open();
        RegistryPath k = RegistryPath.parse("counter");
        a.commit(WriteBatch.builder().setValue(k, "n", RegistryValue.qword(0)).build());
        Set<Long> sequences = ConcurrentHashMap.newKeySet();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (ClusterRegistry r : List.of(a, b)) {
                fs.add(pool.submit(() -> {
                    for (int i = 0; i < 40; i++) {
                        while (true) {
                            VersionedValue v = r.getValue(k, "n").orElseThrow();
                            try {
                                sequences.add(r.commit(WriteBatch.builder().requireRevision(k, "n", v.revision())
                                        .setValue(k, "n", RegistryValue.qword(v.value().asQword() + 1)).build()).sequence());
                                break;
                            } catch (ConditionFailedException e) {
                                assertThat(e.failedCommandIndex()).isZero();
                            }
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(a.getValue(k, "n").orElseThrow().value().asQword()).isEqualTo(80);
        assertThat(sequences).hasSize(80);
        assertThat(b.currentSequence()).isEqualTo(81);
    }

    @SuppressWarnings("try") // the resource is held open for the body, never used by name
    @Test
    void membershipEventsFollowNodeStatesAndThePrimary() {
        ClusterRegistry r = open();
        List<MembershipEvent> events = new CopyOnWriteArrayList<>();
        try (var s = r.addMembershipListener(events::add)) {
            fake.setNodeState("NODE2", ClusterNodePaused);
            await().atMost(Duration.ofSeconds(10)).until(() -> events.contains(
                    new MembershipEvent.NodeStateChanged("NODE2", NodeState.UP, NodeState.PAUSED)));
            fake.setNodeState("NODE2", ClusterNodeUp);
            fake.setNodeState("NODE1", ClusterNodeDown); // the core group fails over to NODE2
            await().atMost(Duration.ofSeconds(10)).until(() -> events.contains(new MembershipEvent.PrimaryChanged("NODE1", "NODE2")));
            assertThat(r.status().primary()).contains("NODE2");
            assertThat(r.status().nodes()).extracting(n -> n.name() + "=" + n.state()).containsExactly("NODE1=DOWN", "NODE2=UP");
        }
    }

    @SuppressWarnings("try") // the resource is held open for the body, never used by name
    @Test
    void aMembershipListenerThatThrowsAnErrorKeepsGettingEvents() {
        ClusterRegistry r = open();
        List<MembershipEvent> events = new CopyOnWriteArrayList<>();
        try (var s = r.addMembershipListener(e -> {
            events.add(e);
            if (events.size() == 1) {
                throw new AssertionError("a listener's own bug");
            }
        })) {
            fake.setNodeState("NODE2", ClusterNodePaused);
            await().atMost(Duration.ofSeconds(10)).until(() -> events.contains(
                    new MembershipEvent.NodeStateChanged("NODE2", NodeState.UP, NodeState.PAUSED)));
            fake.setNodeState("NODE2", ClusterNodeUp);
            await().atMost(Duration.ofSeconds(10)).until(() -> events.contains(
                    new MembershipEvent.NodeStateChanged("NODE2", NodeState.PAUSED, NodeState.UP)));
        }
    }

    @Test
    void healthFaultsAreNamespacedPerRegistry() {
        ClusterRegistry r = open();
        r.addHealthFault(new HealthFault("disk", 1, 2, "full", "storage", 0));
        try (Cluster c = Cluster.open(fake, null)) {
            assertThat(new HealthFaults(fake, fake).list(c)).extracting(HealthFaults.NativeFault::id).containsExactly("Software\\RS/disk");
            new HealthFaults(fake, fake).add(c, new HealthFaults.NativeFault("someone-else", 1, 1, "x", "y", 0));
        }
        assertThat(r.healthFaults()).extracting(HealthFault::id).containsExactly("disk");
    }

    @Test
    void closingReleasesEveryNativeHandleEvenWithOpenWatchesAndListeners() {
        ClusterRegistry r = open();
        Watch w = r.watch(RegistryPath.root(), new dev.reliablestore.registry.ChangeListener() {
            @Override
            public void onBatch(dev.reliablestore.registry.ChangeBatch batch) {
            }

            @Override
            public void onResync(String reason) {
            }
        });
        r.addMembershipListener(e -> { });
        r.healthFaults();
        assertThat(w.startSequence()).isZero();
        r.close();
        assertThat(fake.openHandles()).isZero();
    }

    // ---- the idiomatic layer -------------------------------------------------------------------

    @Test
    void errorsCarryTheirSymbolicNames() {
        assertThat(ClusterApiException.symbolicName(5986)).isEqualTo("ERROR_CLUSTER_DATABASE_UPDATE_CONDITION_FAILED");
        assertThat(ClusterApiException.symbolicName(5962)).isEqualTo("ERROR_CLUSTER_NODE_DRAIN_IN_PROGRESS");
        assertThat(ClusterApiException.symbolicName(234)).isEqualTo("ERROR_MORE_DATA");
        assertThat(ClusterApiException.symbolicName(1726)).isEqualTo("RPC_S_CALL_FAILED");
        assertThat(ClusterApiException.symbolicName(123456)).isEqualTo("WIN32_ERROR_123456");
        ClusterApiException e = new ClusterApiException("ClusterRegCloseBatch", 1722);
        assertThat(e.code()).isEqualTo(1722);
        assertThat(e.isReconnectError()).isTrue();
        assertThat(e).isInstanceOf(RegistryException.class).hasMessage("ClusterRegCloseBatch failed with RPC_S_SERVER_UNAVAILABLE (1722)");
    }

    @Test
    void buffersGrowOnMoreDataInOnePlace() {
        String longName = "n".repeat(1000);
        int[] calls = new int[1];
        String s = Buffers.string("Test", (buf, cch) -> {
            calls[0]++;
            if (cch.getValue() < longName.length() + 1) {
                cch.setValue(longName.length());
                return ERROR_MORE_DATA;
            }
            longName.getChars(0, longName.length(), buf, 0);
            cch.setValue(longName.length());
            return 0;
        });
        assertThat(s).isEqualTo(longName);
        assertThat(calls[0]).isEqualTo(2);
        assertThatThrownBy(() -> Buffers.string("Test", (buf, cch) -> ERROR_ACCESS_DENIED))
                .isInstanceOf(ClusterApiException.class).hasMessageContaining("ERROR_ACCESS_DENIED (5)");
    }

    @Test
    void utf16IsHandledExplicitly() {
        String s = "héllo ✓ 鍵 \uD83D\uDE00";
        assertThat(Utf16.fromNative(Utf16.toNative(s))).isEqualTo(s);
        assertThat(Utf16.fromChars(new char[]{'a', 'b', 0, 'c'}, 4)).isEqualTo("ab");
        assertThat(Utf16.fromNative(null)).isNull();
    }

    /** Our constants equal jna-platform's wherever jna-platform has them (REG_MULTI_SZ is 7, not 6). */
    @Test
    void constantsAgreeWithJnaPlatform() throws Exception {
        int compared = 0;
        for (Field f : ClusApiTypes.class.getFields()) {
            if (f.getType() != int.class) {
                continue;
            }
            Field theirs = null;
            for (Class<?> c : new Class<?>[]{WinError.class, WinNT.class}) {
                try {
                    theirs = c.getField(f.getName());
                    break;
                } catch (NoSuchFieldException e) {
                    // not there
                }
            }
            if (theirs != null && theirs.getType() == int.class) {
                assertThat(f.getInt(null)).as(f.getName()).isEqualTo(theirs.getInt(null));
                compared++;
            }
        }
        assertThat(compared).isGreaterThan(20);
        assertThat(REG_MULTI_SZ).isEqualTo(WinNT.REG_MULTI_SZ).isEqualTo(7);
        assertThat(ClusApiTypes.clctlExternalCode(22, CLUS_ACCESS_READ, CLUS_NO_MODIFY)).isEqualTo(CLCTL_GET_COMMON_PROPERTIES);
        assertThat(ClusApiTypes.clctlExternalCode(23, CLUS_ACCESS_WRITE, CLUS_MODIFY)).isEqualTo(CLCTL_SET_COMMON_PROPERTIES);
        assertThat(ClusApiTypes.clctlExternalCode(33, CLUS_ACCESS_WRITE, CLUS_MODIFY)).isEqualTo(CLCTL_SET_PRIVATE_PROPERTIES);
        assertThat(ClusApiTypes.clusctlCode(CLUS_OBJECT_RESOURCE, CLCTL_GET_COMMON_PROPERTIES)).isEqualTo(CLUSCTL_RESOURCE_GET_COMMON_PROPERTIES);
        assertThat(ClusApiTypes.clusctlCode(CLUS_OBJECT_CLUSTER, CLCTL_GET_FQDN)).isEqualTo(CLUSCTL_CLUSTER_GET_FQDN);
        assertThat(ClusApiTypes.clusterMakeVersion(9, 1)).isEqualTo(0x90001);
    }

    @Test
    void controlCodesGoThroughTheBinding() {
        try (Cluster c = Cluster.open(fake, null)) {
            ClusApiTypes.HRESOURCE res = fake.OpenClusterResource(c.handle(), "Cluster IP Address");
            byte[] out = new byte[4];
            IntByReference returned = new IntByReference();
            assertThat(fake.ClusterResourceControl(res, null, CLUSCTL_RESOURCE_GET_NAME, null, 0, out, out.length, returned))
                    .isEqualTo(ERROR_MORE_DATA);
            byte[] name = Buffers.bytes("ClusterResourceControl", (buf, cb) -> {
                IntByReference r2 = new IntByReference();
                int rc = fake.ClusterResourceControl(res, null, CLUSCTL_RESOURCE_GET_NAME, null, 0, buf, buf.length, r2);
                cb.setValue(r2.getValue());
                return rc;
            });
            assertThat(new String(name, 0, name.length - 2, java.nio.charset.StandardCharsets.UTF_16LE)).isEqualTo("Cluster IP Address");
            assertThat(fake.ClusterResourceControl(res, null, CLUSCTL_RESOURCE_GET_COMMON_PROPERTIES, null, 0, out, 4, returned))
                    .isEqualTo(ERROR_INVALID_FUNCTION);
            fake.CloseClusterResource(res);
        }
    }

    /**
     * A batch notification port that fails (an RPC reconnect during a failover) is reopened, and only
     * then is the listener told to resynchronise: a batch committed by the time its re-read runs is
     * either in that re-read or delivered by the new port, never neither.
     */
    @Test
    @SuppressWarnings("try") // the watch delivers while open
    void aFailedNotificationPortIsReopenedBeforeTheListenerResynchronises() {
        ClusterRegistry r = open();
        RegistryPath key = RegistryPath.parse("Software/RS/Data");
        List<Long> delivered = new CopyOnWriteArrayList<>();
        List<Long> resyncedAt = new CopyOnWriteArrayList<>(); // the sequence of the batch committed right after the re-read
        try (Watch w = r.watch(RegistryPath.parse("Software/RS"), new dev.reliablestore.registry.ChangeListener() {
            @Override
            public void onBatch(dev.reliablestore.registry.ChangeBatch batch) {
                delivered.add(batch.sequence());
            }

            @Override
            public void onResync(String reason) {
                // the re-read a listener makes, then a writer commits right after it
                resyncedAt.add(r.commit(WriteBatch.builder().setValue(key, "after-resync", RegistryValue.qword(1)).build()).sequence());
            }
        })) {
            long before = r.commit(WriteBatch.builder().setValue(key, "before", RegistryValue.qword(1)).build()).sequence();
            await().atMost(Duration.ofSeconds(10)).until(() -> delivered.contains(before));
            fake.failBatchNotificationPorts(RPC_S_CALL_FAILED);
            await().atMost(Duration.ofSeconds(10)).until(() -> resyncedAt.size() == 1);
            long afterResync = resyncedAt.get(0);
            await().atMost(Duration.ofSeconds(10)).until(() -> delivered.contains(afterResync));
        }
    }

    /**
     * The port failed (its queued notifications lost) and the new one could not be opened at first:
     * the reader went back to the old port, which worked again, and the listener never heard of the
     * lost batches (no resync). It keeps reopening until a new port is open, then resynchronises.
     */
    @Test
    @SuppressWarnings("try") // the watch delivers while open
    void aLostNotificationIsResynchronisedEvenWhenTheFirstReopeningFails() {
        ClusterRegistry r = open();
        RegistryPath key = RegistryPath.parse("Software/RS/Data");
        dev.reliablestore.registry.conformance.FeedRecorder rec = new dev.reliablestore.registry.conformance.FeedRecorder();
        try (Watch w = r.watch(RegistryPath.parse("Software/RS"), rec)) {
            long before = r.commit(WriteBatch.builder().setValue(key, "before", RegistryValue.qword(1)).build()).sequence();
            await().atMost(Duration.ofSeconds(10)).until(() -> rec.sequences().contains(before));
            fake.failNextBatchPortCreations(2, RPC_S_CALL_FAILED);
            fake.failBatchNotificationPorts(RPC_S_CALL_FAILED);
            await().atMost(Duration.ofSeconds(10)).until(() -> rec.resyncs.size() == 1);
            long after = r.commit(WriteBatch.builder().setValue(key, "after", RegistryValue.qword(1)).build()).sequence();
            await().atMost(Duration.ofSeconds(10)).until(() -> rec.sequences().contains(after));
            assertThat(rec.resyncs).hasSize(1);
        }
    }

    /** A read batch that fails while it is built is closed, and the reply its close hands over is freed too. */
    @Test
    void aReadBatchThatFailsToGrowLeavesNoHandleOpen() {
        ClusterRegistry r = open();
        RegistryPath key = RegistryPath.parse("Software/RS/Data");
        r.commit(WriteBatch.builder().setValue(key, "v", RegistryValue.qword(1)).build());
        int before = fake.openHandles();
        fake.failNextReadBatchAddCommand(ERROR_OUTOFMEMORY);
        assertThatThrownBy(() -> r.getValue(key, "v")).isInstanceOf(RegistryException.class);
        assertThat(fake.openHandles()).as("native handles left open by the failed read").isEqualTo(before);
        assertThat(r.getValue(key, "v")).map(VersionedValue::value).contains(RegistryValue.qword(1));
    }

    /**
     * Reads racing close(): clusapi's handles are client-side pointers, so none may be handed to the
     * DLL once closed (the fake counts such uses). Every read either answers or fails as closed.
     */
    @Test
    void readsRacingCloseNeverUseAClosedHandle() throws Exception {
        ClusterRegistry r = ClusapiRegistry.open(ClusapiOptions.parse(URI.create("clusapi://FAKECLUSTER/Software/RS"),
                Map.of("localNode", "NODE1")), new ClusapiNatives(fake, fake, fake, fake.waiter()));
        RegistryPath key = RegistryPath.parse("Software/RS/Data");
        r.commit(WriteBatch.builder().setValue(key, "v", RegistryValue.qword(1)).build());
        ExecutorService readers = Executors.newFixedThreadPool(4);
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        java.util.concurrent.CountDownLatch reading = new java.util.concurrent.CountDownLatch(4);
        try {
            for (int t = 0; t < 4; t++) {
                readers.submit(() -> {
                    reading.countDown();
                    while (true) {
                        try {
                            r.getValue(key, "v");
                            r.values(key);
                            r.status();
                        } catch (dev.reliablestore.registry.RegistryClosedException closed) {
                            return;
                        } catch (RuntimeException | Error e) {
                            failures.add(e);
                            return;
                        }
                    }
                });
            }
            reading.await();
            r.close();
        } finally {
            readers.shutdown();
            assertThat(readers.awaitTermination(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        }
        assertThat(failures).isEmpty();
        assertThat(fake.usesAfterFree()).as("calls handed a closed handle").isZero();
    }

    /**
     * A membership refresh runs its RPCs on the monitor's thread: close() must wait for them (or
     * leave the handles open) rather than free the cluster handle under one.
     */
    @Test
    void aMembershipRefreshRacingCloseNeverUsesAClosedHandle() throws Exception {
        java.util.concurrent.CountDownLatch enumerating = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicBoolean once = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicReference<Thread> monitor = new java.util.concurrent.atomic.AtomicReference<>();
        dev.reliablestore.registry.clusapi.jna.ClusApi slowOnTheMonitor = (dev.reliablestore.registry.clusapi.jna.ClusApi)
                java.lang.reflect.Proxy.newProxyInstance(getClass().getClassLoader(),
                        new Class<?>[] {dev.reliablestore.registry.clusapi.jna.ClusApi.class}, (proxy, method, args) -> {
                            if (method.getName().equals("ClusterOpenEnum") && Thread.currentThread().getName().startsWith("clusapi-membership")
                                    && once.compareAndSet(false, true)) {
                                monitor.set(Thread.currentThread());
                                enumerating.countDown();
                                // an RPC to a node that is slow to answer while it changes state; a native call does not see interrupts
                                boolean interrupted = false;
                                while (true) {
                                    try {
                                        release.await();
                                        break;
                                    } catch (InterruptedException e) {
                                        interrupted = true;
                                    }
                                }
                                if (interrupted) {
                                    Thread.currentThread().interrupt();
                                }
                            }
                            try {
                                return method.invoke(fake, args);
                            } catch (java.lang.reflect.InvocationTargetException e) {
                                throw e.getCause();
                            }
                        });
        ClusapiRegistry r = ClusapiRegistry.open(ClusapiOptions.parse(URI.create("clusapi://FAKECLUSTER/Software/RS"),
                Map.of("localNode", "NODE1")), new ClusapiNatives(slowOnTheMonitor, fake, fake, fake.waiter()));
        r.addMembershipListener(event -> { });
        fake.setNodeState("NODE2", ClusterNodePaused);
        assertThat(enumerating.await(10, java.util.concurrent.TimeUnit.SECONDS)).as("the monitor's refresh is in its RPC").isTrue();
        Thread closer = new Thread(r::close, "closer");
        closer.start();
        Field handles = ClusapiRegistry.class.getDeclaredField("handles");
        handles.setAccessible(true);
        java.util.concurrent.locks.ReentrantReadWriteLock lock = (java.util.concurrent.locks.ReentrantReadWriteLock) handles.get(r);
        // close() has either freed the handles already or waits for the refresh to leave them
        await().atMost(Duration.ofSeconds(20)).until(() -> !closer.isAlive() || lock.hasQueuedThreads());
        release.countDown();
        closer.join(60_000);
        monitor.get().join(60_000); // the refresh's remaining RPCs have run
        assertThat(closer.isAlive()).isFalse();
        assertThat(monitor.get().isAlive()).isFalse();
        assertThat(fake.usesAfterFree()).as("calls handed a closed handle").isZero();
    }
}
