package dev.reliablestore.registry.clusapi;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.platform.win32.BaseTSD;
import com.sun.jna.platform.win32.WinNT;
import com.sun.jna.platform.win32.WinReg;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.PointerByReference;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes.CLUSTER_BATCH_COMMAND;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes.CLUSTER_HEALTH_FAULT_ARRAY;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes.CLUSTER_READ_BATCH_COMMAND;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes.HCHANGE;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes.HCLUSTER;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes.HREGBATCH;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes.HREGBATCHNOTIFICATION;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes.HREGBATCHPORT;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes.NOTIFY_FILTER_AND_TYPE;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static dev.reliablestore.registry.clusapi.jna.ClusApiTypes.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The fake against the behaviours the reference documents, so that it cannot drift silently. Each
 * test names the reference section it checks.
 */
class FakeClusApiTest {

    private FakeClusApi api;
    private HCLUSTER cluster;
    private WinReg.HKEY root;

    @BeforeEach
    void open() {
        api = new FakeClusApi("C1", "N1", "N2");
        cluster = api.OpenCluster(null);
        root = api.GetClusterKey(cluster, KEY_ALL_ACCESS);
    }

    @AfterEach
    void close() {
        api.ClusterRegCloseKey(root);
        api.CloseCluster(cluster);
        assertThat(api.openHandles()).as("handles leaked by the test").isZero();
    }

    private WinReg.HKEY create(String path) {
        WinReg.HKEYByReference out = new WinReg.HKEYByReference();
        IntByReference disp = new IntByReference();
        assertThat(api.ClusterRegCreateKey(root, path, REG_OPTION_NON_VOLATILE, KEY_ALL_ACCESS, null, out, disp)).isZero();
        return out.getValue();
    }

    private static byte[] sz(String s) {
        return (s + "\0").getBytes(StandardCharsets.UTF_16LE);
    }

    private HREGBATCH batch(WinReg.HKEY key) {
        PointerByReference out = new PointerByReference();
        assertThat(api.ClusterRegCreateBatch(key, out)).isZero();
        return new HREGBATCH(out.getValue());
    }

    // §0, §1: handles and last errors

    @Test
    void closedAndUnknownHandlesAreInvalid() {
        WinReg.HKEY k = create("a");
        assertThat(api.ClusterRegCloseKey(k)).isZero();
        assertThat(api.ClusterRegCloseKey(k)).isEqualTo(ERROR_INVALID_HANDLE);
        assertThat(api.ClusterRegQueryValue(k, "v", null, null, new IntByReference())).isEqualTo(ERROR_INVALID_HANDLE);
        assertThat(api.OpenClusterNode(new HCLUSTER(new Pointer(0x7777)), "N1")).isNull();
        assertThat(Native.getLastError()).isEqualTo(ERROR_INVALID_HANDLE);
        assertThat(api.OpenClusterNode(cluster, "nope")).isNull();
        assertThat(Native.getLastError()).isEqualTo(ERROR_CLUSTER_NODE_NOT_FOUND);
    }

    // §2: values, ERROR_MORE_DATA, ERROR_FILE_NOT_FOUND, case-insensitive names

    /** §8.1: key names of at most 255 characters, directly and in a batch (the error code for longer ones is assumed). */
    @Test
    void keyNamesOver255CharactersAreRefused() {
        api.ClusterRegCloseKey(create("a\\" + "k".repeat(255)));
        WinReg.HKEYByReference out = new WinReg.HKEYByReference();
        assertThat(api.ClusterRegCreateKey(root, "a\\" + "k".repeat(256), REG_OPTION_NON_VOLATILE, KEY_ALL_ACCESS, null, out,
                new IntByReference())).isEqualTo(ERROR_INVALID_PARAMETER);
        HREGBATCH b = batch(root);
        assertThat(api.ClusterRegBatchAddCommand(b, CLUSREG_CREATE_KEY, "b\\" + "k".repeat(256), 0, null, 0)).isZero();
        IntByReference failed = new IntByReference();
        assertThat(api.ClusterRegCloseBatch(b, true, failed)).isEqualTo(ERROR_INVALID_PARAMETER);
        assertThat(failed.getValue()).isZero();
        assertThat(api.ClusterRegOpenKey(root, "b", KEY_READ, out)).isEqualTo(ERROR_FILE_NOT_FOUND);
    }

    @Test
    void queryValueReportsTheSizeAndMoreData() {
        WinReg.HKEY k = create("a\\b");
        assertThat(api.ClusterRegSetValue(k, "Name", REG_SZ, sz("hello"), 12)).isZero();
        IntByReference type = new IntByReference();
        IntByReference cb = new IntByReference();
        assertThat(api.ClusterRegQueryValue(k, "name", type, null, cb)).isZero(); // NULL buffer: size only
        assertThat(cb.getValue()).isEqualTo(12);
        cb.setValue(4);
        assertThat(api.ClusterRegQueryValue(k, "NAME", type, new byte[4], cb)).isEqualTo(ERROR_MORE_DATA);
        assertThat(cb.getValue()).isEqualTo(12);
        byte[] buf = new byte[12];
        cb.setValue(12);
        assertThat(api.ClusterRegQueryValue(k, "name", type, buf, cb)).isZero();
        assertThat(type.getValue()).isEqualTo(REG_SZ);
        assertThat(buf).isEqualTo(sz("hello"));
        assertThat(api.ClusterRegQueryValue(k, "missing", type, buf, cb)).isEqualTo(ERROR_FILE_NOT_FOUND);
        assertThat(api.ClusterRegDeleteValue(k, "missing")).isEqualTo(ERROR_FILE_NOT_FOUND);
        api.ClusterRegCloseKey(k);
    }

    @Test
    void enumerationsEndWithNoMoreItemsAndReportMoreData() {
        WinReg.HKEY k = create("e");
        api.ClusterRegCloseKey(create("e\\first"));
        api.ClusterRegCloseKey(create("e\\a-much-longer-name"));
        List<String> names = new ArrayList<>();
        for (int i = 0; ; i++) {
            char[] buf = new char[4];
            IntByReference cch = new IntByReference(buf.length);
            int rc = api.ClusterRegEnumKey(k, i, buf, cch, null);
            if (rc == ERROR_NO_MORE_ITEMS) {
                break;
            }
            if (rc == ERROR_MORE_DATA) {
                buf = new char[cch.getValue() + 1];
                cch.setValue(buf.length);
                rc = api.ClusterRegEnumKey(k, i, buf, cch, null);
            }
            assertThat(rc).isZero();
            names.add(new String(buf, 0, cch.getValue()));
        }
        assertThat(names).containsExactlyInAnyOrder("first", "a-much-longer-name");
        assertThat(api.ClusterRegDeleteKey(root, "e")).isEqualTo(ERROR_KEY_HAS_CHILDREN);
        api.ClusterRegCloseKey(k);
    }

    // §3.1-3.3: write batches

    @Test
    void aBatchRunsRelativeToItsKeyWithACurrentKeyPointer() {
        WinReg.HKEY base = create("base");
        HREGBATCH b = batch(base);
        api.ClusterRegBatchAddCommand(b, CLUSREG_CREATE_KEY, "x\\y", 0, null, 0);
        api.ClusterRegBatchAddCommand(b, CLUSREG_SET_VALUE, "v", REG_DWORD, new byte[]{1, 0, 0, 0}, 4);
        api.ClusterRegBatchAddCommand(b, CLUSREG_CREATE_KEY, "z", 0, null, 0); // relative to the batch key, not to x\y
        api.ClusterRegBatchAddCommand(b, CLUSREG_SET_VALUE, "w", REG_DWORD, new byte[]{2, 0, 0, 0}, 4);
        IntByReference failed = new IntByReference(-7);
        assertThat(api.ClusterRegCloseBatch(b, true, failed)).isZero();
        assertThat(api.rawValue("base\\x\\y", "v").data()).containsExactly(1, 0, 0, 0);
        assertThat(api.rawValue("base\\z", "w").data()).containsExactly(2, 0, 0, 0);
        assertThat(api.rawValue("base\\x\\y\\z", "w")).isNull();
        api.ClusterRegCloseKey(base);
    }

    @Test
    void deleteKeyIsRecursiveNeverFailsAndClearsThePointer() {
        WinReg.HKEY base = create("base");
        HREGBATCH b = batch(base);
        api.ClusterRegBatchAddCommand(b, CLUSREG_CREATE_KEY, "t\\u\\v", 0, null, 0);
        api.ClusterRegBatchAddCommand(b, CLUSREG_SET_VALUE, "v", REG_DWORD, new byte[4], 4);
        assertThat(api.ClusterRegCloseBatch(b, true, null)).isZero();
        HREGBATCH d = batch(base);
        api.ClusterRegBatchAddCommand(d, CLUSREG_DELETE_KEY, "t", 0, null, 0);
        api.ClusterRegBatchAddCommand(d, CLUSREG_DELETE_KEY, "never-existed", 0, null, 0);
        assertThat(api.ClusterRegCloseBatch(d, true, null)).isZero();
        assertThat(api.rawValue("base\\t\\u\\v", "v")).isNull();
        // a value command after DELETE_KEY without CREATE_KEY: ERROR_INVALID_PARAMETER, nothing applied
        HREGBATCH e = batch(base);
        api.ClusterRegBatchAddCommand(e, CLUSREG_SET_VALUE, "first", REG_DWORD, new byte[4], 4);
        api.ClusterRegBatchAddCommand(e, CLUSREG_DELETE_KEY, "gone", 0, null, 0);
        api.ClusterRegBatchAddCommand(e, CLUSREG_SET_VALUE, "v", REG_DWORD, new byte[4], 4);
        IntByReference failed = new IntByReference();
        assertThat(api.ClusterRegCloseBatch(e, true, failed)).isEqualTo(ERROR_INVALID_PARAMETER);
        assertThat(failed.getValue()).isEqualTo(2);
        assertThat(api.rawValue("base", "first")).isNull();
        api.ClusterRegCloseKey(base);
    }

    @Test
    void aFailedConditionAppliesNothingAndReports5986WithItsNumber() {
        WinReg.HKEY base = create("base");
        api.ClusterRegSetValue(base, "guid", REG_BINARY, new byte[]{9}, 1);
        for (int bas : new int[]{0, 1}) {
            api.failedCommandBase = bas;
            HREGBATCH b = batch(base);
            api.ClusterRegBatchAddCommand(b, CLUSREG_SET_VALUE, "written", REG_DWORD, new byte[4], 4);
            api.ClusterRegBatchAddCommand(b, CLUSREG_CONDITION_IS_EQUAL, "guid", REG_BINARY, new byte[]{9}, 1);
            api.ClusterRegBatchAddCommand(b, CLUSREG_CONDITION_NOT_EXISTS, "guid", 0, null, 0);
            IntByReference failed = new IntByReference();
            assertThat(api.ClusterRegCloseBatch(b, true, failed)).isEqualTo(ERROR_CLUSTER_DATABASE_UPDATE_CONDITION_FAILED);
            assertThat(failed.getValue()).isEqualTo(2 + bas);
            assertThat(api.rawValue("base", "written")).isNull();
        }
        // the same type is part of equality in the fake (documented assumption)
        HREGBATCH t = batch(base);
        api.ClusterRegBatchAddCommand(t, CLUSREG_CONDITION_IS_EQUAL, "guid", REG_DWORD, new byte[]{9}, 1);
        assertThat(api.ClusterRegCloseBatch(t, true, null)).isEqualTo(ERROR_CLUSTER_DATABASE_UPDATE_CONDITION_FAILED);
        // CloseBatch(FALSE) discards; the handle is gone either way
        HREGBATCH x = batch(base);
        api.ClusterRegBatchAddCommand(x, CLUSREG_SET_VALUE, "discarded", REG_DWORD, new byte[4], 4);
        assertThat(api.ClusterRegCloseBatch(x, false, null)).isZero();
        assertThat(api.rawValue("base", "discarded")).isNull();
        assertThat(api.ClusterRegCloseBatch(x, true, null)).isEqualTo(ERROR_INVALID_HANDLE);
        api.ClusterRegCloseKey(base);
    }

    @Test
    void conditionsSeeEarlierWritesOnlyWhenSwitchedSo() {
        WinReg.HKEY base = create("base");
        for (boolean sees : new boolean[]{true, false}) {
            api.conditionsSeeEarlierWrites = sees;
            HREGBATCH b = batch(base);
            api.ClusterRegBatchAddCommand(b, CLUSREG_SET_VALUE, "n" + sees, REG_DWORD, new byte[4], 4);
            api.ClusterRegBatchAddCommand(b, CLUSREG_CONDITION_EXISTS, "n" + sees, 0, null, 0);
            int rc = api.ClusterRegCloseBatch(b, true, null);
            assertThat(rc).isEqualTo(sees ? ERROR_SUCCESS : ERROR_CLUSTER_DATABASE_UPDATE_CONDITION_FAILED);
        }
        api.ClusterRegCloseKey(base);
    }

    @Test
    void aBatchReissuedAfterAReconnectRunsTwiceAndAnswersWithTheSecondRun() {
        // MS-CMRP ApiExecuteBatch and 3.2.4.6: on a reconnect error the client reconnects and reissues the method
        WinReg.HKEY base = create("base");
        HREGBATCH b = batch(base);
        api.ClusterRegBatchAddCommand(b, CLUSREG_CONDITION_NOT_EXISTS, "once", 0, null, 0);
        api.ClusterRegBatchAddCommand(b, CLUSREG_SET_VALUE, "once", REG_DWORD, new byte[]{1, 0, 0, 0}, 4);
        List<byte[]> between = new ArrayList<>();
        api.reissueNextCloseBatch(() -> between.add(api.rawValue("base", "once").data()));
        IntByReference failed = new IntByReference();
        assertThat(api.ClusterRegCloseBatch(b, true, failed)).isEqualTo(ERROR_CLUSTER_DATABASE_UPDATE_CONDITION_FAILED);
        assertThat(failed.getValue()).isZero();
        assertThat(between).singleElement().satisfies(d -> assertThat(d).containsExactly(1, 0, 0, 0)); // the first run applied
        assertThat(api.rawValue("base", "once").data()).containsExactly(1, 0, 0, 0);
        api.ClusterRegCloseKey(base);
    }

    // §3.4 read batches

    @Test
    void aReadBatchAnswersInOrderWithErrorsPerRead() {
        WinReg.HKEY base = create("base");
        api.ClusterRegSetValue(base, "v", REG_DWORD, new byte[]{5, 0, 0, 0}, 4);
        PointerByReference out = new PointerByReference();
        assertThat(api.ClusterRegCreateReadBatch(base, out)).isZero();
        ClusApiTypes.HREGREADBATCH rb = new ClusApiTypes.HREGREADBATCH(out.getValue());
        api.ClusterRegReadBatchAddCommand(rb, null, "v");
        api.ClusterRegReadBatchAddCommand(rb, "missing\\key", "v");
        PointerByReference reply = new PointerByReference();
        assertThat(api.ClusterRegCloseReadBatchEx(rb, CLUSREG_DATABASE_ISOLATE_READ, reply)).isZero();
        ClusApiTypes.HREGREADBATCHREPLY r = new ClusApiTypes.HREGREADBATCHREPLY(reply.getValue());
        CLUSTER_READ_BATCH_COMMAND c = new CLUSTER_READ_BATCH_COMMAND();
        assertThat(api.ClusterRegReadBatchReplyNextCommand(r, c)).isZero();
        assertThat(c.Command).isEqualTo(CLUSREG_READ_VALUE);
        assertThat(c.dwOptions).isEqualTo(REG_DWORD);
        assertThat(c.lpData.getByteArray(0, c.cbData)).containsExactly(5, 0, 0, 0);
        assertThat(Utf16.fromNative(c.wzValueName)).isEqualTo("v");
        assertThat(api.ClusterRegReadBatchReplyNextCommand(r, c)).isZero();
        assertThat(c.Command).isEqualTo(CLUSREG_READ_ERROR);
        assertThat(c.dwOptions).isEqualTo(ERROR_FILE_NOT_FOUND);
        assertThat(Utf16.fromNative(c.wzSubkeyName)).isEqualTo("missing\\key");
        assertThat(api.ClusterRegReadBatchReplyNextCommand(r, c)).isEqualTo(ERROR_NO_MORE_ITEMS);
        assertThat(api.ClusterRegCloseReadBatchReply(r)).isZero();
        api.ClusterRegCloseKey(base);
    }

    // §4 batch notifications: mirrored commands, VALUE_DELETED before overwritten data, merging, blocking, close

    @Test
    void batchNotificationsMirrorMergeBlockAndEndOnClose() throws Exception {
        WinReg.HKEY base = create("base");
        PointerByReference p = new PointerByReference();
        assertThat(api.ClusterRegCreateBatchNotifyPort(base, p)).isZero();
        HREGBATCHPORT port = new HREGBATCHPORT(p.getValue());
        // the MS-CMRP example: Delete, Set, Set, Delete of a value that did not exist
        HREGBATCH b = batch(base);
        api.ClusterRegBatchAddCommand(b, CLUSREG_DELETE_VALUE, "v", 0, null, 0);
        api.ClusterRegBatchAddCommand(b, CLUSREG_SET_VALUE, "v", REG_SZ, sz("hello world"), sz("hello world").length);
        api.ClusterRegBatchAddCommand(b, CLUSREG_SET_VALUE, "v", REG_SZ, sz("hello universe"), sz("hello universe").length);
        api.ClusterRegBatchAddCommand(b, CLUSREG_DELETE_VALUE, "v", 0, null, 0);
        assertThat(api.ClusterRegCloseBatch(b, true, null)).isZero();
        HREGBATCH second = batch(base);
        api.ClusterRegBatchAddCommand(second, CLUSREG_CREATE_KEY, "k", 0, null, 0);
        assertThat(api.ClusterRegCloseBatch(second, true, null)).isZero();
        PointerByReference n = new PointerByReference();
        assertThat(api.ClusterRegGetBatchNotification(port, n)).isZero(); // both batches, merged
        HREGBATCHNOTIFICATION notification = new HREGBATCHNOTIFICATION(n.getValue());
        List<String> seen = new ArrayList<>();
        CLUSTER_BATCH_COMMAND c = new CLUSTER_BATCH_COMMAND();
        while (api.ClusterRegBatchReadCommand(notification, c) == ERROR_SUCCESS) {
            String data = c.cbData == 0 ? "" : new String(c.lpData.getByteArray(0, c.cbData - 2), StandardCharsets.UTF_16LE);
            seen.add(c.Command + ":" + Utf16.fromNative(c.wzName) + ":" + data);
        }
        assertThat(seen).containsExactly("4:v:", "1:v:hello world", "6:v:hello world", "1:v:hello universe",
                "6:v:hello universe", "4:v:hello universe", "2:k:");
        assertThat(api.ClusterRegBatchCloseNotification(notification)).isZero();
        // blocks until the port is closed from another thread, then ERROR_NO_MORE_ITEMS
        CompletableFuture<Integer> blocked = new CompletableFuture<>();
        Thread waiter = new Thread(() -> blocked.complete(api.ClusterRegGetBatchNotification(port, new PointerByReference())));
        waiter.start();
        await().atMost(Duration.ofSeconds(5)).until(() -> waiter.getState() == Thread.State.WAITING);
        assertThat(blocked).isNotDone();
        assertThat(api.ClusterRegCloseBatchNotifyPort(port)).isZero();
        assertThat(blocked.get()).isEqualTo(ERROR_NO_MORE_ITEMS);
        waiter.join();
        api.ClusterRegCloseKey(base);
    }

    // §5 V2 ports: filters by value/array, event handle, timeout, payload strings

    @Test
    void v2PortsDeliverNodeEventsAndSignalTheirEventHandle() {
        NOTIFY_FILTER_AND_TYPE[] filters = (NOTIFY_FILTER_AND_TYPE[]) new NOTIFY_FILTER_AND_TYPE().toArray(1);
        filters[0].dwObjectType = CLUSTER_OBJECT_TYPE_NODE;
        filters[0].FilterFlags = CLUSTER_CHANGE_NODE_STATE_V2;
        HCHANGE port = api.CreateClusterNotifyPortV2(ClusApiTypes.invalidHChange(), cluster, filters[0], 1, new BaseTSD.DWORD_PTR(42));
        assertThat(port).isNotNull();
        WinNT.HANDLEByReference event = new WinNT.HANDLEByReference();
        assertThat(api.GetNotifyEventHandle(port, event)).isZero();
        assertThat(api.waitForSingleObject(event.getValue(), 0)).isEqualTo(EventWaiter.WAIT_TIMEOUT);
        api.setNodeState("N2", ClusterNodeDown);
        assertThat(api.waitForSingleObject(event.getValue(), 1000)).isEqualTo(EventWaiter.WAIT_OBJECT_0);
        BaseTSD.ULONG_PTRByReference key = new BaseTSD.ULONG_PTRByReference();
        NOTIFY_FILTER_AND_TYPE ft = new NOTIFY_FILTER_AND_TYPE();
        char[] name = new char[2];
        IntByReference cch = new IntByReference(name.length);
        assertThat(api.GetClusterNotifyV2(port, key, ft, null, null, null, null, null, null, name, cch, null, null, 0))
                .isEqualTo(ERROR_MORE_DATA);
        name = new char[cch.getValue() + 1];
        cch.setValue(name.length);
        assertThat(api.GetClusterNotifyV2(port, key, ft, null, null, null, null, null, null, name, cch, null, null, 0)).isZero();
        assertThat(new String(name, 0, cch.getValue())).isEqualTo("N2");
        assertThat(key.getValue().longValue()).isEqualTo(42);
        assertThat(ft.dwObjectType).isEqualTo(CLUSTER_OBJECT_TYPE_NODE);
        assertThat(api.GetClusterNotifyV2(port, key, ft, null, null, null, null, null, null, name, cch, null, null, 0)).isEqualTo(WAIT_TIMEOUT);
        // RegisterClusterNotifyV2 takes the filter by value and targets one group
        ClusApiTypes.HGROUP g = api.OpenClusterGroup(cluster, "Cluster Group");
        assertThat(api.RegisterClusterNotifyV2(port, new NOTIFY_FILTER_AND_TYPE.ByValue(CLUSTER_OBJECT_TYPE_GROUP,
                CLUSTER_CHANGE_GROUP_OWNER_NODE_V2), g, new BaseTSD.DWORD_PTR(7))).isZero();
        api.setNodeState("N2", ClusterNodeUp); // a group can only move to an Up node
        assertThat(api.MoveClusterGroup(g, null)).isEqualTo(ERROR_IO_PENDING);
        await().atMost(Duration.ofSeconds(5)).until(() -> api.waitForSingleObject(event.getValue(), 0) == EventWaiter.WAIT_OBJECT_0);
        api.CloseClusterGroup(g);
        assertThat(api.CloseClusterNotifyPort(port)).isTrue();
    }

    // §6 nodes and groups: drain, resume with failback, group state and owner

    @Test
    void drainMovesGroupsAndResumeFailsThemBack() {
        ClusApiTypes.HNODE n1 = api.OpenClusterNode(cluster, "N1");
        ClusApiTypes.HGROUP g = api.OpenClusterGroup(cluster, "Cluster Group");
        char[] owner = new char[16];
        IntByReference cch = new IntByReference(owner.length);
        assertThat(api.GetClusterGroupState(g, owner, cch)).isEqualTo(ClusterGroupOnline);
        assertThat(new String(owner, 0, cch.getValue())).isEqualTo("N1");
        assertThat(api.PauseClusterNodeEx(n1, true, 0, null)).isEqualTo(ERROR_IO_PENDING);
        assertThat(api.GetClusterNodeState(n1)).isEqualTo(ClusterNodePaused);
        cch.setValue(owner.length);
        api.GetClusterGroupState(g, owner, cch);
        assertThat(new String(owner, 0, cch.getValue())).isEqualTo("N2");
        assertThat(api.ResumeClusterNodeEx(n1, FailbackGroupsImmediately, 0)).isZero();
        cch.setValue(owner.length);
        api.GetClusterGroupState(g, owner, cch);
        assertThat(new String(owner, 0, cch.getValue())).isEqualTo("N1");
        api.CloseClusterGroup(g);
        api.CloseClusterNode(n1);
    }

    // §7 health faults: the DLL allocates the array; it must be freed

    @Test
    void healthFaultArraysAreAllocatedAndMustBeFreed() {
        HealthFaults faults = new HealthFaults(api, api);
        try (Cluster c = Cluster.open(api, null)) {
            faults.add(c, new HealthFaults.NativeFault("x", 1, 2, "d", "p", 3));
            assertThat(faults.list(c)).containsExactly(new HealthFaults.NativeFault("x", 1, 2, "d", "p", 3));
            assertThat(api.unfreedHealthFaultArrays()).isZero();
            CLUSTER_HEALTH_FAULT_ARRAY a = new CLUSTER_HEALTH_FAULT_ARRAY();
            assertThat(api.ClusGetClusterHealthFaults(c.handle(), a, 0)).isZero();
            assertThat(api.unfreedHealthFaultArrays()).isEqualTo(1);
            assertThat(api.FreeClusterHealthFaultArray(a)).isZero();
            assertThat(api.unfreedHealthFaultArrays()).isZero();
            assertThat(api.ClusRemoveClusterHealthFault(c.handle(), "x", 0)).isZero();
            assertThat(api.ClusRemoveClusterHealthFault(c.handle(), "x", 0)).isEqualTo(ERROR_NOT_FOUND);
        }
    }

    // §0.1 / §1 GetClusterInformation needs dwVersionInfoSize

    @Test
    void clusterInformationNeedsTheVersionInfoSize() {
        ClusApiTypes.CLUSTERVERSIONINFO v = new ClusApiTypes.CLUSTERVERSIONINFO();
        assertThat(api.GetClusterInformation(cluster, new char[64], new IntByReference(64), v)).isEqualTo(ERROR_INVALID_PARAMETER);
        try (Cluster c = Cluster.open(api, null)) {
            Cluster.ClusterInfo info = c.info();
            assertThat(info.name()).isEqualTo("C1");
            assertThat(info.vendor()).startsWith("Microsoft");
            assertThat(c.enumerate(CLUSTER_ENUM_NODE)).containsExactly("N1", "N2");
        }
    }
}
