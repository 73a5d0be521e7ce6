package dev.reliablestore.registry.clusapi;

import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.PointerByReference;
import dev.reliablestore.registry.clusapi.jna.ClusApi;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes.CLUSTER_BATCH_COMMAND;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes.HREGBATCH;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes.HREGBATCHNOTIFICATION;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes.HREGBATCHPORT;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static dev.reliablestore.registry.clusapi.jna.ClusApiTypes.*;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Settles, on a real cluster, each fact the reference marks UNVERIFIED and that the backend or the
 * fake assumes (docs/windows.md lists them with these test names). Every test asserts what the fake
 * does by default; a failure says which assumption is wrong and what to change. Windows only, with
 * {@code RELIABLESTORE_TEST_CLUSTER} set; everything happens below {@code ReliableStoreTest\<uuid>}.
 */
@EnabledOnOs(OS.WINDOWS)
@EnabledIfEnvironmentVariable(named = WindowsClusterSupport.ENV, matches = ".+")
class ClusapiWindowsFactsTest {

    private final ClusApi api = ClusApi.instance();
    private final String basePath = "ReliableStoreTest\\" + UUID.randomUUID();
    private Cluster cluster;
    private ClusterKey base;

    @BeforeEach
    void open() {
        cluster = Cluster.open(api, WindowsClusterSupport.clusterNameOrNull());
        try (ClusterKey root = cluster.rootKey(KEY_ALL_ACCESS)) {
            base = root.create(basePath, KEY_ALL_ACCESS);
        }
    }

    @AfterEach
    void close() {
        base.close();
        cluster.close();
        WindowsClusterSupport.deleteTree(api, basePath);
    }

    private record Result(int code, int failed) {
    }

    private Result run(Object[]... commands) {
        PointerByReference b = new PointerByReference();
        assertThat(api.ClusterRegCreateBatch(base.handle(), b)).isZero();
        HREGBATCH batch = new HREGBATCH(b.getValue());
        for (Object[] c : commands) {
            byte[] data = (byte[]) c[3];
            assertThat(api.ClusterRegBatchAddCommand(batch, (Integer) c[0], (String) c[1], (Integer) c[2], data,
                    data == null ? 0 : data.length)).isZero();
        }
        IntByReference failed = new IntByReference(-99);
        int rc = api.ClusterRegCloseBatch(batch, true, failed);
        System.out.println("[clusapi fact] batch returned " + ClusterApiException.symbolicName(rc) + " failedCommandNumber=" + failed.getValue());
        return new Result(rc, failed.getValue());
    }

    private static Object[] cmd(int command, String name, int options, byte[] data) {
        return new Object[]{command, name, options, data};
    }

    private static final byte[] ONE = {1, 0, 0, 0};

    /** Unverified 1 and 2: a false condition returns 5986 and failedCommandNumber counts from 0 (set failedCommandBase=1 otherwise). */
    @Test
    void aFalseConditionReturns5986AndCountsCommandsFromZero() {
        Result r = run(cmd(CLUSREG_SET_VALUE, "a", REG_DWORD, ONE), cmd(CLUSREG_CONDITION_EXISTS, "missing", 0, null));
        assertThat(r.code()).as("error code of a failed condition").isEqualTo(ERROR_CLUSTER_DATABASE_UPDATE_CONDITION_FAILED);
        assertThat(r.failed()).as("failedCommandNumber of the 2nd command: 1 = 0-based (default), 2 = 1-based "
                + "(then set failedCommandBase=1)").isEqualTo(1);
        assertThat(base.query("a")).as("nothing applied").isEmpty();
    }

    /** CREATE_KEY and DELETE_KEY names are relative to the batch's key, not to the current key. */
    @Test
    void createKeyIsRelativeToTheBatchKey() {
        Result r = run(cmd(CLUSREG_CREATE_KEY, "a\\b", 0, null), cmd(CLUSREG_CREATE_KEY, "c", 0, null),
                cmd(CLUSREG_SET_VALUE, "v", REG_DWORD, ONE));
        assertThat(r.code()).isZero();
        assertThat(base.open("c", KEY_READ)).as("c below the batch key").isPresent().get().satisfies(k -> {
            assertThat(k.query("v")).isPresent();
            k.close();
        });
        assertThat(base.open("a\\b\\c", KEY_READ)).as("c below the current key").isEmpty();
    }

    /** CREATE_KEY "" positions on the batch key itself (used for values at the registry root). */
    @Test
    void createKeyOfTheEmptyNameIsTheBatchKey() {
        Result r = run(cmd(CLUSREG_CREATE_KEY, "a", 0, null), cmd(CLUSREG_CREATE_KEY, "", 0, null),
                cmd(CLUSREG_SET_VALUE, "rootValue", REG_DWORD, ONE));
        assertThat(r.code()).isZero();
        assertThat(base.query("rootValue")).isPresent();
    }

    /** KEY_EXISTS names a path relative to the batch key; conditions see earlier commands of the batch (the fake's default). */
    @Test
    void keyConditionsAreRelativeToTheBatchKeyAndSeeEarlierCommands() {
        assertThat(run(cmd(CLUSREG_CREATE_KEY, "k\\l", 0, null)).code()).isZero();
        assertThat(run(cmd(CLUSREG_CREATE_KEY, "k\\l", 0, null), cmd(CLUSREG_CONDITION_KEY_EXISTS, "k\\l", 0, null)).code()).isZero();
        assertThat(run(cmd(CLUSREG_CONDITION_KEY_NOT_EXISTS, "k\\l", 0, null)).code())
                .isEqualTo(ERROR_CLUSTER_DATABASE_UPDATE_CONDITION_FAILED);
        // the backend does not depend on this one (it decides such conditions itself); the fake's default should match
        Result seen = run(cmd(CLUSREG_SET_VALUE, "fresh", REG_DWORD, ONE), cmd(CLUSREG_CONDITION_EXISTS, "fresh", 0, null));
        assertThat(seen.code()).as("a condition sees an earlier write of its batch (fake: conditionsSeeEarlierWrites)").isZero();
    }

    /** IS_EQUAL compares the type as well as the bytes (the contract's ValueEquals needs both). */
    @Test
    void isEqualComparesTypeAndBytes() {
        assertThat(run(cmd(CLUSREG_SET_VALUE, "d", REG_DWORD, ONE)).code()).isZero();
        assertThat(run(cmd(CLUSREG_CONDITION_IS_EQUAL, "d", REG_DWORD, ONE)).code()).isZero();
        assertThat(run(cmd(CLUSREG_CONDITION_IS_EQUAL, "d", REG_BINARY, ONE)).code())
                .as("same bytes, other type: must fail, else ValueEquals needs a type check the server cannot do")
                .isEqualTo(ERROR_CLUSTER_DATABASE_UPDATE_CONDITION_FAILED);
    }

    /** ClusterRegCloseBatchEx accepts flags 0 and 1 (CLUSREG_DATABASE_SYNC_WRITE_TO_ALL_NODES) and commits. */
    @Test
    void closeBatchExCommitsWithFlags0And1() {
        for (int flags : new int[]{0, CLUSREG_DATABASE_SYNC_WRITE_TO_ALL_NODES}) {
            PointerByReference b = new PointerByReference();
            assertThat(api.ClusterRegCreateBatch(base.handle(), b)).isZero();
            HREGBATCH batch = new HREGBATCH(b.getValue());
            api.ClusterRegBatchAddCommand(batch, CLUSREG_SET_VALUE, "ex" + flags, REG_DWORD, ONE, 4);
            IntByReference failed = new IntByReference();
            assertThat(api.ClusterRegCloseBatchEx(batch, flags, failed)).as("CloseBatchEx flags " + flags).isZero();
            assertThat(base.query("ex" + flags)).isPresent();
        }
    }

    /** The end of a notification is ERROR_NO_MORE_ITEMS, and closing the port ends a blocked GetBatchNotification. */
    @Test
    void batchNotificationsEndWithNoMoreItemsAndPortCloseUnblocks() throws Exception {
        PointerByReference p = new PointerByReference();
        assertThat(api.ClusterRegCreateBatchNotifyPort(base.handle(), p)).isZero();
        HREGBATCHPORT port = new HREGBATCHPORT(p.getValue());
        run(cmd(CLUSREG_SET_VALUE, "n", REG_DWORD, ONE));
        PointerByReference n = new PointerByReference();
        assertThat(api.ClusterRegGetBatchNotification(port, n)).isZero();
        HREGBATCHNOTIFICATION notification = new HREGBATCHNOTIFICATION(n.getValue());
        CLUSTER_BATCH_COMMAND c = new CLUSTER_BATCH_COMMAND();
        int rc;
        int count = 0;
        while ((rc = api.ClusterRegBatchReadCommand(notification, c)) == 0) {
            count++;
        }
        System.out.println("[clusapi fact] notification had " + count + " commands, then " + ClusterApiException.symbolicName(rc));
        assertThat(count).isPositive();
        assertThat(rc).isEqualTo(ERROR_NO_MORE_ITEMS);
        api.ClusterRegBatchCloseNotification(notification);
        CompletableFuture<Integer> blocked = CompletableFuture.supplyAsync(() -> api.ClusterRegGetBatchNotification(port, new PointerByReference()));
        Thread.sleep(500); // on a real cluster there is no state to poll for "the call is now blocked"
        api.ClusterRegCloseBatchNotifyPort(port);
        int after = blocked.get(30, TimeUnit.SECONDS);
        System.out.println("[clusapi fact] GetBatchNotification after close returned " + ClusterApiException.symbolicName(after));
        assertThat(after).as("the fake returns ERROR_NO_MORE_ITEMS").isEqualTo(ERROR_NO_MORE_ITEMS);
    }
}
