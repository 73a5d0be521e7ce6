package dev.reliablestore.registry.clusapi;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.platform.win32.BaseTSD;
import com.sun.jna.platform.win32.WinBase;
import com.sun.jna.platform.win32.WinNT;
import com.sun.jna.platform.win32.WinReg;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.PointerByReference;
import dev.reliablestore.registry.clusapi.jna.ClusApi;
import dev.reliablestore.registry.clusapi.jna.ResUtils;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * An in-memory failover cluster behind the {@link ClusApi} (and {@link ResUtils}) interfaces, with
 * the documented semantics of clusapi.dll (clusapi-reference.md) -- test code only. Where the
 * documentation is silent the fake makes the choice written in docs/windows.md ("what the fake
 * assumes"); the choices that matter can be switched ({@link #failedCommandBase},
 * {@link #conditionsSeeEarlierWrites}) so the backend is shown to work under either reading.
 *
 * <p>Faithful points: opaque pointer handles, {@code ERROR_INVALID_HANDLE} for unknown or closed
 * ones; names case-insensitive and case-preserving; {@code ERROR_FILE_NOT_FOUND},
 * {@code ERROR_MORE_DATA} with the needed size, {@code ERROR_NO_MORE_ITEMS}; write batches with a
 * current-key pointer, recursive DELETE_KEY clearing it (then 87 for value commands), conditions,
 * all-or-nothing with {@code failedCommandNumber} and 5986; read batches; batch notification ports
 * that merge everything since the last call and block; V1/V2 ports with event handles; last errors
 * through {@link Native#setLastError}; health faults in a DLL-allocated array that must be freed.
 */
public final class FakeClusApi implements ClusApi, ResUtils, ResUtils.Cdecl {

    // ---- switches for the unverified facts ------------------------------------------------------

    /** The number given to the first batch command in {@code failedCommandNumber} (0 per the SDK docs, 1 per MS-CMRP). */
    public volatile int failedCommandBase = 0;

    /** Whether a condition sees the writes of earlier commands of the same batch (else: the state before the batch). */
    public volatile boolean conditionsSeeEarlierWrites = true;

    /** Error returned by the next {@code ClusterRegCloseBatch(TRUE)} after applying (rc) or before (negative); 0 = none. */
    private int injectedCloseBatchError;
    private int failReadBatchAdd;
    private boolean injectedAfterApply;
    /** Non-null: the next committing ClusterRegCloseBatch is reissued after a reconnect ({@link #reissueNextCloseBatch}). */
    private Runnable reissueBetween;

    // ---- state -----------------------------------------------------------------------------------

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final Map<Long, Object> handles = new HashMap<>();
    /** Handles closed by drop(): never handed out again, so a later use is a use after free. */
    private final java.util.Set<Long> freed = new java.util.HashSet<>();
    private int usesAfterFree;
    private long nextHandle = 0x10000;
    private final String clusterName;
    private final FKey root = new FKey(null, "");
    private final Map<String, FNode> nodes = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    private final Map<String, FGroup> groups = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    private final Map<String, FResource> resources = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    private final Map<String, FNetwork> networks = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    private final Map<String, FNetIf> netIfs = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    private final Map<String, String[]> faults = new LinkedHashMap<>();
    private final Map<Long, List<Memory>> faultArrays = new HashMap<>();
    private final List<ChangePort> changePorts = new ArrayList<>();
    private final List<BatchPort> batchPorts = new ArrayList<>();
    private final String localNode;
    private int nextId = 1;

    /** A cluster named {@code name} whose nodes are {@code nodeNames} (all Up; the first is local and owns "Cluster Group"). */
    public FakeClusApi(String name, String... nodeNames) {
        this.clusterName = name;
        for (String n : nodeNames) {
            nodes.put(n, new FNode(n, String.valueOf(nextId++)));
        }
        this.localNode = nodeNames[0];
        FGroup core = new FGroup("Cluster Group", id(), nodes.get(localNode));
        groups.put(core.name, core);
        FResource ip = new FResource("Cluster IP Address", id(), core);
        FResource witness = new FResource("File Share Witness", id(), core);
        resources.put(ip.name, ip);
        resources.put(witness.name, witness);
        FNetwork net = new FNetwork("Cluster Network 1", id());
        networks.put(net.name, net);
        for (String n : nodeNames) {
            FNetIf nif = new FNetIf(n + " - Ethernet", id(), nodes.get(n), net);
            netIfs.put(nif.name, nif);
        }
    }

    private String id() {
        return "00000000-0000-0000-0000-" + String.format("%012d", nextId++);
    }

    // ---- test helpers ----------------------------------------------------------------------------

    public String localNodeName() {
        return localNode;
    }

    /**
     * An {@link EventWaiter} over this fake's event handles: those of {@code GetNotifyEventHandle}
     * and events it makes as kernel32's {@code CreateEvent} would (manual reset), which count as open
     * handles until closed.
     */
    EventWaiter waiter() {
        return new EventWaiter() {
            @Override
            public int waitForAny(WinNT.HANDLE[] handles, int millis) {
                return FakeClusApi.this.waitForAny(handles, millis);
            }

            @Override
            public WinNT.HANDLE createEvent() {
                return locked(() -> new WinNT.HANDLE(newHandle(new ManualEvent())));
            }

            @Override
            public boolean setEvent(WinNT.HANDLE event) {
                return locked(() -> {
                    ManualEvent e = get(event, ManualEvent.class);
                    if (e == null) {
                        Native.setLastError(ERROR_INVALID_HANDLE);
                        return false;
                    }
                    e.set = true;
                    changed.signalAll();
                    return true;
                });
            }

            @Override
            public void closeEvent(WinNT.HANDLE event) {
                locked(() -> {
                    if (get(event, ManualEvent.class) != null) {
                        drop(event);
                        changed.signalAll(); // a wait still on it fails, as one on a port's event when the port closes
                    }
                    return null;
                });
            }
        };
    }

    private boolean holdMoves;

    /**
     * While held, a move or drain the API accepts (ERROR_IO_PENDING) leaves its group Pending on its
     * old owner, as a real move is for a while: a second move of that group fails with
     * ERROR_CLUSTER_GROUP_MOVING and a second drain of that node with ERROR_CLUSTER_NODE_DRAIN_IN_PROGRESS,
     * until {@link #completeMoves()}.
     */
    public void holdMoves(boolean hold) {
        lock.lock();
        try {
            holdMoves = hold;
        } finally {
            lock.unlock();
        }
    }

    /** Completes every held move: each group comes online on its destination. */
    public void completeMoves() {
        lock.lock();
        try {
            for (FGroup g : groups.values()) {
                if (g.movingTo != null) {
                    FNode to = g.movingTo;
                    g.movingTo = null;
                    moveTo(g, to);
                }
            }
            nodes.values().forEach(n -> n.draining = false);
        } finally {
            lock.unlock();
        }
    }

    /** Changes a node's state as the cluster would (posting V1/V2 node events); Down/Paused nodes lose their groups. */
    public void setNodeState(String node, int state) {
        lock.lock();
        try {
            FNode n = nodes.get(node);
            n.state = state;
            post(CLUSTER_OBJECT_TYPE_NODE, CLUSTER_CHANGE_NODE_STATE_V2, CLUSTER_CHANGE_NODE_STATE, n, n.name, n.id, "", "Node");
            if (state == ClusterNodeDown) {
                for (FGroup g : groups.values()) {
                    if (g.owner == n) {
                        FNode target = firstUpNodeOtherThan(n);
                        moveTo(g, target);
                    }
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** Number of open handles of every kind (leak checks). */
    public int openHandles() {
        lock.lock();
        try {
            return handles.size();
        } finally {
            lock.unlock();
        }
    }

    /** Health-fault arrays handed out by ClusGetClusterHealthFaults and not yet freed. */
    public int unfreedHealthFaultArrays() {
        lock.lock();
        try {
            return faultArrays.size();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Every open batch notification port's waiting or next ClusterRegGetBatchNotification returns
     * {@code rc} once (as an RPC reconnect during a failover fails a call in progress); the port
     * stays open and what it had queued is lost with it.
     */
    public void failBatchNotificationPorts(int rc) {
        lock.lock();
        try {
            for (BatchPort p : batchPorts) {
                p.failWith = rc;
                p.pending.clear();
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private int failPortCreations;
    private int failPortCreationRc;

    /** The next {@code count} ClusterRegCreateBatchNotifyPort calls return {@code rc} (the cluster unreachable for a while). */
    public void failNextBatchPortCreations(int count, int rc) {
        lock.lock();
        try {
            failPortCreations = count;
            failPortCreationRc = rc;
        } finally {
            lock.unlock();
        }
    }

    /** The next ClusterRegReadBatchAddCommand returns {@code rc} (the documented way a read batch fails to grow: out of memory). */
    public void failNextReadBatchAddCommand(int rc) {
        lock.lock();
        try {
            failReadBatchAdd = rc;
        } finally {
            lock.unlock();
        }
    }

    /** The next committing ClusterRegCloseBatch returns {@code rc}; with {@code afterApply} the batch is applied first. */
    public void injectCloseBatchError(int rc, boolean afterApply) {
        lock.lock();
        try {
            injectedCloseBatchError = rc;
            injectedAfterApply = afterApply;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The next committing ClusterRegCloseBatch is executed, its answer is lost with the connection
     * (RPC_S_CALL_FAILED, a reconnect error), and the DLL reconnects and issues it again, as MS-CMRP
     * prescribes for ApiExecuteBatch ("initiate the reconnect procedure", 3.2.4.6: "reconnect to the
     * cluster and reissue the method"): the caller gets only the second execution's answer.
     * {@code between} runs between the two executions, outside the fake's lock (another writer
     * committing while the client reconnects); pass {@code () -> {}} for none.
     */
    public void reissueNextCloseBatch(Runnable between) {
        lock.lock();
        try {
            reissueBetween = java.util.Objects.requireNonNull(between, "between");
        } finally {
            lock.unlock();
        }
    }

    /** A value as stored, by {@code \}-path from the cluster root; null when missing. */
    public RegValue rawValue(String keyPath, String name) {
        lock.lock();
        try {
            FKey k = resolve(root, keyPath);
            FVal v = k == null ? null : k.values.get(name);
            return v == null ? null : new RegValue(v.type, v.data);
        } finally {
            lock.unlock();
        }
    }

    /** The names of the values stored under a key, as stored (including reserved ones). */
    public List<String> rawValueNames(String keyPath) {
        lock.lock();
        try {
            FKey k = resolve(root, keyPath);
            return k == null ? List.of() : List.copyOf(k.valueNames());
        } finally {
            lock.unlock();
        }
    }

    // =============================================================================================
    // model
    // =============================================================================================

    private record FVal(int type, byte[] data) {
    }

    private static final class FKey {
        final FKey parent;
        final String name;
        final TreeMap<String, FKey> children = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        final TreeMap<String, FVal> values = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        final Map<String, String> valueCase = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        byte[] security = {1, 0, 4, (byte) 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        boolean deleted;

        FKey(FKey parent, String name) {
            this.parent = parent;
            this.name = name;
        }

        List<String> valueNames() {
            List<String> out = new ArrayList<>();
            for (String k : values.keySet()) {
                out.add(valueCase.get(k));
            }
            return out;
        }

        void put(String n, FVal v) {
            values.put(n, v);
            valueCase.put(n, n);
        }

        FVal remove(String n) {
            valueCase.remove(n);
            return values.remove(n);
        }

        String path() {
            return parent == null ? "" : parent.parent == null ? name : parent.path() + "\\" + name;
        }
    }

    private static final class FNode {
        final String name;
        final String id;
        int state = ClusterNodeUp;
        final List<FGroup> drained = new ArrayList<>();
        /** A drain whose group moves are still pending (see {@link #holdMoves}). */
        boolean draining;

        FNode(String name, String id) {
            this.name = name;
            this.id = id;
        }
    }

    private static final class FGroup {
        final String name;
        final String id;
        FNode owner;
        int state = ClusterGroupOnline;
        /** Where a held move is taking the group; null when none is running. */
        FNode movingTo;

        FGroup(String name, String id, FNode owner) {
            this.name = name;
            this.id = id;
            this.owner = owner;
        }
    }

    private static final class FResource {
        final String name;
        final String id;
        final FGroup group;
        int state = ClusterResourceOnline;

        FResource(String name, String id, FGroup group) {
            this.name = name;
            this.id = id;
            this.group = group;
        }
    }

    private static final class FNetwork {
        final String name;
        final String id;
        int state = ClusterNetworkUp;

        FNetwork(String name, String id) {
            this.name = name;
            this.id = id;
        }
    }

    private static final class FNetIf {
        final String name;
        final String id;
        final FNode node;
        final FNetwork network;
        int state = ClusterNetInterfaceUp;

        FNetIf(String name, String id, FNode node, FNetwork network) {
            this.name = name;
            this.id = id;
            this.node = node;
            this.network = network;
        }
    }

    private record Conn() {
    }

    private record KeyH(FKey key) {
    }

    private record EnumH(List<Object[]> items) {
    }

    private record BatchCmd(int command, String name, int options, byte[] data) {
    }

    private static final class WriteBatchH {
        final FKey root;
        final List<BatchCmd> commands = new ArrayList<>();

        WriteBatchH(FKey root) {
            this.root = root;
        }
    }

    private static final class ReadBatchH {
        final FKey root;
        final List<String[]> reads = new ArrayList<>();

        ReadBatchH(FKey root) {
            this.root = root;
        }
    }

    private static final class ReplyH {
        final List<Object[]> records = new ArrayList<>();
        int next;
    }

    private static final class BatchPort {
        final FKey key;
        final List<BatchCmd> pending = new ArrayList<>();
        boolean closed;
        /** Non-zero: what the next ClusterRegGetBatchNotification returns ({@link #failBatchNotificationPorts}). */
        int failWith;

        BatchPort(FKey key) {
            this.key = key;
        }
    }

    private static final class NotificationH {
        final List<BatchCmd> commands;
        final List<Memory> memory = new ArrayList<>();
        int next;

        NotificationH(List<BatchCmd> commands) {
            this.commands = commands;
        }
    }

    private record Filter(boolean v2, int objectType, long flags, Object target, long key) {
    }

    private record Event(long key, int objectType, long flags, String objectId, String parentId, String name, String type) {
    }

    private static final class ChangePort {
        final boolean v2;
        final List<Filter> filters = new ArrayList<>();
        final Deque<Event> queue = new ArrayDeque<>();
        boolean closed;
        long eventHandle;

        ChangePort(boolean v2) {
            this.v2 = v2;
        }
    }

    private record EventH(ChangePort port) {
    }

    /** An event made by the waiter's createEvent: manual reset, so it stays set once set. */
    private static final class ManualEvent {
        boolean set;
    }

    // ---- handle plumbing -------------------------------------------------------------------------

    private Pointer newHandle(Object o) {
        long h = nextHandle;
        nextHandle += 16;
        handles.put(h, o);
        return new Pointer(h);
    }

    private <T> T get(WinNT.HANDLE h, Class<T> kind) {
        if (h == null || h.getPointer() == null) {
            return null;
        }
        return get(h.getPointer(), kind);
    }

    private <T> T get(Pointer p, Class<T> kind) {
        Object o = p == null ? null : handles.get(Pointer.nativeValue(p));
        if (o == null && p != null && freed.contains(Pointer.nativeValue(p))) {
            usesAfterFree++; // undefined behaviour in the real DLL (the handle is a freed client-side pointer)
        }
        return kind.isInstance(o) ? kind.cast(o) : null;
    }

    private void drop(WinNT.HANDLE h) {
        long key = Pointer.nativeValue(h.getPointer());
        if (handles.remove(key) != null) {
            freed.add(key);
        }
    }

    /**
     * How often a call was handed a handle after it was closed. The fake answers such a call with
     * ERROR_INVALID_HANDLE; the real DLL's handles are client-side pointers, so there it is a use
     * after free that may crash the process or touch another object.
     */
    public int usesAfterFree() {
        lock.lock();
        try {
            return usesAfterFree;
        } finally {
            lock.unlock();
        }
    }

    private static <T> T fail(int error) {
        Native.setLastError(error);
        return null;
    }

    private FKey key(WinReg.HKEY h) {
        KeyH k = get(h, KeyH.class);
        return k == null ? null : k.key;
    }

    /** Writes a string to an output buffer: 0, or ERROR_MORE_DATA with the length (without NUL) in cch. */
    private static int putString(String s, char[] buf, IntByReference cch) {
        if (cch == null) {
            return ERROR_INVALID_PARAMETER;
        }
        if (buf == null || cch.getValue() < s.length() + 1 || buf.length < s.length() + 1) {
            cch.setValue(s.length());
            return buf == null ? ERROR_SUCCESS : ERROR_MORE_DATA;
        }
        s.getChars(0, s.length(), buf, 0);
        buf[s.length()] = 0;
        cch.setValue(s.length());
        return ERROR_SUCCESS;
    }

    private static int putBytes(byte[] data, byte[] buf, IntByReference cb) {
        if (cb == null) {
            return buf == null ? ERROR_SUCCESS : ERROR_INVALID_PARAMETER;
        }
        if (buf == null) {
            cb.setValue(data.length);
            return ERROR_SUCCESS;
        }
        if (cb.getValue() < data.length || buf.length < data.length) {
            cb.setValue(data.length);
            return ERROR_MORE_DATA;
        }
        System.arraycopy(data, 0, buf, 0, data.length);
        cb.setValue(data.length);
        return ERROR_SUCCESS;
    }

    private static Memory wide(String s, List<Memory> keep) {
        if (s == null) {
            return null;
        }
        Memory m = Utf16.toNative(s);
        keep.add(m);
        return m;
    }

    private static Memory mem(byte[] data, List<Memory> keep) {
        if (data == null || data.length == 0) {
            return null;
        }
        Memory m = new Memory(data.length);
        m.write(0, data, 0, data.length);
        keep.add(m);
        return m;
    }

    // ---- registry tree ---------------------------------------------------------------------------

    /** Windows' limit on one key name; the code a longer one gets is not documented (assumed 87, ERROR_INVALID_PARAMETER). */
    static final int MAX_KEY_NAME = 255;

    private static boolean validPath(String path) {
        if (path == null || path.startsWith("\\")) {
            return false;
        }
        for (String seg : path.split("\\\\", -1)) {
            if (seg.length() > MAX_KEY_NAME) {
                return false;
            }
        }
        return true;
    }

    private static FKey resolve(FKey from, String path) {
        if (path == null || path.isEmpty()) {
            return from;
        }
        FKey k = from;
        for (String seg : path.split("\\\\", -1)) {
            if (seg.isEmpty()) {
                return null;
            }
            k = k.children.get(seg);
            if (k == null) {
                return null;
            }
        }
        return k;
    }

    private FKey create(FKey from, String path, List<Runnable> undo, boolean[] created) {
        if (path.isEmpty()) {
            return from;
        }
        FKey k = from;
        for (String seg : path.split("\\\\", -1)) {
            FKey child = k.children.get(seg);
            if (child == null) {
                FKey parent = k;
                child = new FKey(parent, seg);
                parent.children.put(seg, child);
                FKey c = child;
                if (undo != null) {
                    undo.add(() -> parent.children.remove(c.name));
                }
                if (created != null) {
                    created[0] = true;
                }
            }
            k = child;
        }
        return k;
    }

    private void deleteTree(FKey k, List<Runnable> undo) {
        FKey parent = k.parent;
        parent.children.remove(k.name);
        markDeleted(k, true);
        if (undo != null) {
            undo.add(() -> {
                parent.children.put(k.name, k);
                markDeleted(k, false);
            });
        }
    }

    private static void markDeleted(FKey k, boolean deleted) {
        k.deleted = deleted;
        for (FKey c : k.children.values()) {
            markDeleted(c, deleted);
        }
    }

    private static FKey copyTree(FKey k, FKey parent) {
        FKey c = new FKey(parent, k.name);
        for (Map.Entry<String, FVal> e : k.values.entrySet()) {
            c.put(k.valueCase.get(e.getKey()), e.getValue());
        }
        for (FKey child : k.children.values()) {
            c.children.put(child.name, copyTree(child, c));
        }
        return c;
    }

    private static String relative(FKey base, FKey k) {
        List<String> segs = new ArrayList<>();
        for (FKey x = k; x != base; x = x.parent) {
            if (x == null) {
                return null;
            }
            segs.add(0, x.name);
        }
        return String.join("\\", segs);
    }

    // =============================================================================================
    // 1. connection
    // =============================================================================================

    @Override
    public HCLUSTER OpenCluster(String lpszClusterName) {
        lock.lock();
        try {
            if (lpszClusterName != null && !lpszClusterName.equalsIgnoreCase(clusterName) && !nodes.containsKey(lpszClusterName)) {
                return fail(RPC_S_SERVER_UNAVAILABLE);
            }
            return new HCLUSTER(newHandle(new Conn()));
        } finally {
            lock.unlock();
        }
    }

    @Override
    public HCLUSTER OpenClusterEx(String lpszClusterName, int desiredAccess, IntByReference grantedAccess) {
        if ((desiredAccess & CLUSAPI_CHANGE_ACCESS) != 0 && (desiredAccess & CLUSAPI_READ_ACCESS) == 0) {
            return fail(ERROR_INVALID_PARAMETER);
        }
        HCLUSTER h = OpenCluster(lpszClusterName);
        if (h != null && grantedAccess != null) {
            boolean change = (desiredAccess & (CLUSAPI_CHANGE_ACCESS | GENERIC_WRITE | GENERIC_ALL | GENERIC_EXECUTE | MAXIMUM_ALLOWED)) != 0;
            grantedAccess.setValue(change ? GENERIC_ALL : GENERIC_READ);
        }
        return h;
    }

    @Override
    public boolean CloseCluster(HCLUSTER hCluster) {
        lock.lock();
        try {
            if (get(hCluster, Conn.class) == null) {
                Native.setLastError(ERROR_INVALID_HANDLE);
                return false;
            }
            drop(hCluster);
            return true;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int GetClusterInformation(HCLUSTER hCluster, char[] lpszClusterName, IntByReference lpcchClusterName,
                                     CLUSTERVERSIONINFO info) {
        lock.lock();
        try {
            if (get(hCluster, Conn.class) == null) {
                return ERROR_INVALID_HANDLE;
            }
            if (info != null) {
                if (info.dwVersionInfoSize != CLUSTERVERSIONINFO.SIZE) {
                    return ERROR_INVALID_PARAMETER;
                }
                info.MajorVersion = 10;
                info.MinorVersion = 0;
                info.BuildNumber = 20348;
                Arrays.fill(info.szVendorId, (char) 0);
                "Microsoft(R) Cluster Service".getChars(0, 28, info.szVendorId, 0);
                Arrays.fill(info.szCSDVersion, (char) 0);
                info.dwClusterHighestVersion = dev.reliablestore.registry.clusapi.jna.ClusApiTypes.clusterMakeVersion(NT11_MAJOR_VERSION, 0);
                info.dwClusterLowestVersion = dev.reliablestore.registry.clusapi.jna.ClusApiTypes.clusterMakeVersion(NT11_MAJOR_VERSION, 0);
                info.dwFlags = 0;
                info.write();
            }
            return putString(clusterName, lpszClusterName, lpcchClusterName);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int GetNodeClusterState(String lpszNodeName, IntByReference pdwClusterState) {
        lock.lock();
        try {
            String n = lpszNodeName == null ? localNode : lpszNodeName;
            pdwClusterState.setValue(nodes.containsKey(n) ? ClusterStateRunning : ClusterStateNotInstalled);
            return ERROR_SUCCESS;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int GetClusterQuorumResource(HCLUSTER hCluster, char[] lpszResourceName, IntByReference lpcchResourceName,
                                        char[] lpszDeviceName, IntByReference lpcchDeviceName, IntByReference lpdwMaxQuorumLogSize) {
        lock.lock();
        try {
            if (get(hCluster, Conn.class) == null) {
                return ERROR_INVALID_HANDLE;
            }
            int a = putString("File Share Witness", lpszResourceName, lpcchResourceName);
            int b = putString("\\\\witness\\share", lpszDeviceName, lpcchDeviceName);
            if (lpdwMaxQuorumLogSize != null) {
                lpdwMaxQuorumLogSize.setValue(4 * 1024 * 1024);
            }
            return a != ERROR_SUCCESS ? a : b;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public WinReg.HKEY GetClusterKey(HCLUSTER hCluster, int samDesired) {
        lock.lock();
        try {
            if (get(hCluster, Conn.class) == null) {
                return fail(ERROR_INVALID_HANDLE);
            }
            return new WinReg.HKEY(newHandle(new KeyH(root)));
        } finally {
            lock.unlock();
        }
    }

    private WinReg.HKEY objectKey(Object o, String kind, String name) {
        lock.lock();
        try {
            if (o == null) {
                return fail(ERROR_INVALID_HANDLE);
            }
            FKey k = create(root, kind + "\\" + name, null, null);
            return new WinReg.HKEY(newHandle(new KeyH(k)));
        } finally {
            lock.unlock();
        }
    }

    @Override
    public WinReg.HKEY GetClusterGroupKey(HGROUP hGroup, int samDesired) {
        FGroup g = locked(() -> get(hGroup, FGroup.class));
        return objectKey(g, "Groups", g == null ? "" : g.id);
    }

    @Override
    public WinReg.HKEY GetClusterResourceKey(HRESOURCE hResource, int samDesired) {
        FResource r = locked(() -> get(hResource, FResource.class));
        return objectKey(r, "Resources", r == null ? "" : r.id);
    }

    @Override
    public WinReg.HKEY GetClusterNodeKey(HNODE hNode, int samDesired) {
        FNode n = locked(() -> get(hNode, FNode.class));
        return objectKey(n, "Nodes", n == null ? "" : n.id);
    }

    @Override
    public WinReg.HKEY GetClusterNetworkKey(HNETWORK hNetwork, int samDesired) {
        FNetwork n = locked(() -> get(hNetwork, FNetwork.class));
        return objectKey(n, "Networks", n == null ? "" : n.id);
    }

    @Override
    public WinReg.HKEY GetClusterNetInterfaceKey(HNETINTERFACE hNetInterface, int samDesired) {
        FNetIf n = locked(() -> get(hNetInterface, FNetIf.class));
        return objectKey(n, "NetworkInterfaces", n == null ? "" : n.id);
    }

    private <T> T locked(java.util.function.Supplier<T> s) {
        lock.lock();
        try {
            return s.get();
        } finally {
            lock.unlock();
        }
    }

    /** The control codes the fake models: GET_NAME and GET_ID of every object; others are ERROR_INVALID_FUNCTION. */
    private int control(String name, String id, int objectType, int code, byte[] out, int cbOut, IntByReference returned) {
        String s;
        if (code == dev.reliablestore.registry.clusapi.jna.ClusApiTypes.clusctlCode(objectType, CLCTL_GET_NAME)) {
            s = name;
        } else if (code == dev.reliablestore.registry.clusapi.jna.ClusApiTypes.clusctlCode(objectType, CLCTL_GET_ID)) {
            s = id;
        } else if (objectType == CLUS_OBJECT_CLUSTER && code == CLUSCTL_CLUSTER_GET_FQDN) {
            s = name + ".fake.local";
        } else {
            return ERROR_INVALID_FUNCTION;
        }
        byte[] b = (s + "\0").getBytes(StandardCharsets.UTF_16LE);
        IntByReference cb = new IntByReference(cbOut);
        int rc = putBytes(b, out, cb);
        if (returned != null) {
            returned.setValue(cb.getValue());
        }
        return rc;
    }

    @Override
    public int ClusterControl(HCLUSTER hCluster, HNODE hHostNode, int code, byte[] in, int cbIn, byte[] out, int cbOut,
                              IntByReference returned) {
        return locked(() -> get(hCluster, Conn.class) == null ? ERROR_INVALID_HANDLE
                : control(clusterName, "cluster-id", CLUS_OBJECT_CLUSTER, code, out, cbOut, returned));
    }

    // =============================================================================================
    // 6. enumeration
    // =============================================================================================

    private <H extends WinNT.HANDLE> H openEnum(List<Object[]> items, java.util.function.Function<Pointer, H> wrap) {
        return wrap.apply(newHandle(new EnumH(items)));
    }

    private int enumItem(WinNT.HANDLE h, int index, IntByReference type, char[] name, IntByReference cch) {
        lock.lock();
        try {
            EnumH e = get(h, EnumH.class);
            if (e == null) {
                return ERROR_INVALID_HANDLE;
            }
            if (index < 0 || index >= e.items.size()) {
                return ERROR_NO_MORE_ITEMS;
            }
            if (type != null) {
                type.setValue((Integer) e.items.get(index)[0]);
            }
            return putString((String) e.items.get(index)[1], name, cch);
        } finally {
            lock.unlock();
        }
    }

    private int enumCount(WinNT.HANDLE h) {
        return locked(() -> {
            EnumH e = get(h, EnumH.class);
            return e == null ? 0 : e.items.size();
        });
    }

    private int closeEnum(WinNT.HANDLE h) {
        return locked(() -> {
            if (get(h, EnumH.class) == null) {
                return ERROR_INVALID_HANDLE;
            }
            drop(h);
            return ERROR_SUCCESS;
        });
    }

    @Override
    public HCLUSENUM ClusterOpenEnum(HCLUSTER hCluster, int dwType) {
        lock.lock();
        try {
            if (get(hCluster, Conn.class) == null) {
                return fail(ERROR_INVALID_HANDLE);
            }
            List<Object[]> items = new ArrayList<>();
            if ((dwType & CLUSTER_ENUM_NODE) != 0) {
                nodes.keySet().forEach(n -> items.add(new Object[]{CLUSTER_ENUM_NODE, n}));
            }
            if ((dwType & CLUSTER_ENUM_RESTYPE) != 0) {
                List.of("IP Address", "File Share Witness", "Generic Service")
                        .forEach(n -> items.add(new Object[]{CLUSTER_ENUM_RESTYPE, n}));
            }
            if ((dwType & CLUSTER_ENUM_RESOURCE) != 0) {
                resources.keySet().forEach(n -> items.add(new Object[]{CLUSTER_ENUM_RESOURCE, n}));
            }
            if ((dwType & CLUSTER_ENUM_GROUP) != 0) {
                groups.keySet().forEach(n -> items.add(new Object[]{CLUSTER_ENUM_GROUP, n}));
            }
            if ((dwType & CLUSTER_ENUM_NETWORK) != 0) {
                networks.keySet().forEach(n -> items.add(new Object[]{CLUSTER_ENUM_NETWORK, n}));
            }
            if ((dwType & CLUSTER_ENUM_NETINTERFACE) != 0) {
                netIfs.keySet().forEach(n -> items.add(new Object[]{CLUSTER_ENUM_NETINTERFACE, n}));
            }
            return openEnum(items, HCLUSENUM::new);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int ClusterGetEnumCount(HCLUSENUM hEnum) {
        return enumCount(hEnum);
    }

    @Override
    public int ClusterEnum(HCLUSENUM hEnum, int dwIndex, IntByReference lpdwType, char[] lpszName, IntByReference lpcchName) {
        return enumItem(hEnum, dwIndex, lpdwType, lpszName, lpcchName);
    }

    @Override
    public int ClusterCloseEnum(HCLUSENUM hEnum) {
        return closeEnum(hEnum);
    }

    @Override
    public HNODEENUM ClusterNodeOpenEnum(HNODE hNode, int dwType) {
        lock.lock();
        try {
            FNode n = get(hNode, FNode.class);
            if (n == null) {
                return fail(ERROR_INVALID_HANDLE);
            }
            List<Object[]> items = new ArrayList<>();
            if ((dwType & CLUSTER_NODE_ENUM_NETINTERFACES) != 0) {
                netIfs.values().stream().filter(i -> i.node == n).forEach(i -> items.add(new Object[]{CLUSTER_NODE_ENUM_NETINTERFACES, i.name}));
            }
            if ((dwType & CLUSTER_NODE_ENUM_GROUPS) != 0) {
                groups.values().stream().filter(g -> g.owner == n).forEach(g -> items.add(new Object[]{CLUSTER_NODE_ENUM_GROUPS, g.name}));
            }
            return openEnum(items, HNODEENUM::new);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int ClusterNodeGetEnumCount(HNODEENUM hNodeEnum) {
        return enumCount(hNodeEnum);
    }

    @Override
    public int ClusterNodeEnum(HNODEENUM hNodeEnum, int dwIndex, IntByReference lpdwType, char[] lpszName, IntByReference lpcchName) {
        return enumItem(hNodeEnum, dwIndex, lpdwType, lpszName, lpcchName);
    }

    @Override
    public int ClusterNodeCloseEnum(HNODEENUM hNodeEnum) {
        return closeEnum(hNodeEnum);
    }

    @Override
    public HGROUPENUM ClusterGroupOpenEnum(HGROUP hGroup, int dwType) {
        lock.lock();
        try {
            FGroup g = get(hGroup, FGroup.class);
            if (g == null) {
                return fail(ERROR_INVALID_HANDLE);
            }
            List<Object[]> items = new ArrayList<>();
            if ((dwType & CLUSTER_GROUP_ENUM_CONTAINS) != 0) {
                resources.values().stream().filter(r -> r.group == g).forEach(r -> items.add(new Object[]{CLUSTER_GROUP_ENUM_CONTAINS, r.name}));
            }
            if ((dwType & CLUSTER_GROUP_ENUM_NODES) != 0) {
                nodes.keySet().forEach(n -> items.add(new Object[]{CLUSTER_GROUP_ENUM_NODES, n}));
            }
            return openEnum(items, HGROUPENUM::new);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int ClusterGroupGetEnumCount(HGROUPENUM hGroupEnum) {
        return enumCount(hGroupEnum);
    }

    @Override
    public int ClusterGroupEnum(HGROUPENUM hGroupEnum, int dwIndex, IntByReference lpdwType, char[] lpszResourceName,
                                IntByReference lpcchName) {
        return enumItem(hGroupEnum, dwIndex, lpdwType, lpszResourceName, lpcchName);
    }

    @Override
    public int ClusterGroupCloseEnum(HGROUPENUM hGroupEnum) {
        return closeEnum(hGroupEnum);
    }

    @Override
    public HRESENUM ClusterResourceOpenEnum(HRESOURCE hResource, int dwType) {
        lock.lock();
        try {
            if (get(hResource, FResource.class) == null) {
                return fail(ERROR_INVALID_HANDLE);
            }
            List<Object[]> items = new ArrayList<>();
            if ((dwType & CLUSTER_RESOURCE_ENUM_NODES) != 0) {
                nodes.keySet().forEach(n -> items.add(new Object[]{CLUSTER_RESOURCE_ENUM_NODES, n}));
            }
            return openEnum(items, HRESENUM::new);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int ClusterResourceGetEnumCount(HRESENUM hResEnum) {
        return enumCount(hResEnum);
    }

    @Override
    public int ClusterResourceEnum(HRESENUM hResEnum, int dwIndex, IntByReference lpdwType, char[] lpszName, IntByReference lpcchName) {
        return enumItem(hResEnum, dwIndex, lpdwType, lpszName, lpcchName);
    }

    @Override
    public int ClusterResourceCloseEnum(HRESENUM hResEnum) {
        return closeEnum(hResEnum);
    }

    @Override
    public HNETWORKENUM ClusterNetworkOpenEnum(HNETWORK hNetwork, int dwType) {
        lock.lock();
        try {
            FNetwork n = get(hNetwork, FNetwork.class);
            if (n == null) {
                return fail(ERROR_INVALID_HANDLE);
            }
            List<Object[]> items = new ArrayList<>();
            if ((dwType & CLUSTER_NETWORK_ENUM_NETINTERFACES) != 0) {
                netIfs.values().stream().filter(i -> i.network == n).forEach(i -> items.add(new Object[]{CLUSTER_NETWORK_ENUM_NETINTERFACES, i.name}));
            }
            return openEnum(items, HNETWORKENUM::new);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int ClusterNetworkGetEnumCount(HNETWORKENUM hNetworkEnum) {
        return enumCount(hNetworkEnum);
    }

    @Override
    public int ClusterNetworkEnum(HNETWORKENUM hNetworkEnum, int dwIndex, IntByReference lpdwType, char[] lpszName,
                                  IntByReference lpcchName) {
        return enumItem(hNetworkEnum, dwIndex, lpdwType, lpszName, lpcchName);
    }

    @Override
    public int ClusterNetworkCloseEnum(HNETWORKENUM hNetworkEnum) {
        return closeEnum(hNetworkEnum);
    }

    // =============================================================================================
    // nodes
    // =============================================================================================

    @Override
    public HNODE OpenClusterNode(HCLUSTER hCluster, String lpszNodeName) {
        lock.lock();
        try {
            if (get(hCluster, Conn.class) == null) {
                return fail(ERROR_INVALID_HANDLE);
            }
            FNode n = nodes.get(lpszNodeName);
            return n == null ? fail(ERROR_CLUSTER_NODE_NOT_FOUND) : new HNODE(newHandle(n));
        } finally {
            lock.unlock();
        }
    }

    @Override
    public HNODE OpenClusterNodeEx(HCLUSTER hCluster, String lpszNodeName, int dwDesiredAccess, IntByReference lpdwGrantedAccess) {
        HNODE h = OpenClusterNode(hCluster, lpszNodeName);
        if (h != null && lpdwGrantedAccess != null) {
            lpdwGrantedAccess.setValue(GENERIC_ALL);
        }
        return h;
    }

    @Override
    public boolean CloseClusterNode(HNODE hNode) {
        return closeObject(hNode, FNode.class);
    }

    private boolean closeObject(WinNT.HANDLE h, Class<?> kind) {
        return locked(() -> {
            if (get(h, kind) == null) {
                Native.setLastError(ERROR_INVALID_HANDLE);
                return false;
            }
            drop(h);
            return true;
        });
    }

    @Override
    public int GetClusterNodeState(HNODE hNode) {
        return locked(() -> {
            FNode n = get(hNode, FNode.class);
            if (n == null) {
                Native.setLastError(ERROR_INVALID_HANDLE);
                return ClusterNodeStateUnknown;
            }
            Native.setLastError(0);
            return n.state;
        });
    }

    @Override
    public int GetClusterNodeId(HNODE hNode, char[] lpszNodeId, IntByReference lpcchName) {
        return locked(() -> {
            FNode n = hNode == null ? nodes.get(localNode) : get(hNode, FNode.class);
            return n == null ? ERROR_INVALID_HANDLE : putString(n.id, lpszNodeId, lpcchName);
        });
    }

    @Override
    public HCLUSTER GetClusterFromNode(HNODE hNode) {
        return clusterFrom(hNode, FNode.class);
    }

    private HCLUSTER clusterFrom(WinNT.HANDLE h, Class<?> kind) {
        return locked(() -> get(h, kind) == null ? fail(ERROR_INVALID_HANDLE) : new HCLUSTER(newHandle(new Conn())));
    }

    private FNode firstUpNodeOtherThan(FNode n) {
        for (FNode x : nodes.values()) {
            if (x != n && x.state == ClusterNodeUp) {
                return x;
            }
        }
        return null;
    }

    /** An accepted move: done at once, or left Pending while moves are held. */
    private void startMove(FGroup g, FNode target) {
        if (holdMoves) {
            g.movingTo = target;
            g.state = ClusterGroupPending;
            post(CLUSTER_OBJECT_TYPE_GROUP, CLUSTER_CHANGE_GROUP_STATE_V2, CLUSTER_CHANGE_GROUP_STATE, g, g.name, g.id, "", "Group");
        } else {
            moveTo(g, target);
        }
    }

    private void moveTo(FGroup g, FNode target) {
        g.owner = target;
        g.state = target == null ? ClusterGroupFailed : ClusterGroupOnline;
        post(CLUSTER_OBJECT_TYPE_GROUP, CLUSTER_CHANGE_GROUP_OWNER_NODE_V2 | CLUSTER_CHANGE_GROUP_STATE_V2,
                CLUSTER_CHANGE_GROUP_STATE, g, g.name, g.id, "", "Group");
    }

    @Override
    public int PauseClusterNode(HNODE hNode) {
        return PauseClusterNodeEx(hNode, false, 0, null);
    }

    @Override
    public int PauseClusterNodeEx(HNODE hNode, boolean bDrainNode, int dwPauseFlags, HNODE hNodeDrainTarget) {
        lock.lock();
        try {
            FNode n = get(hNode, FNode.class);
            if (n == null) {
                return ERROR_INVALID_HANDLE;
            }
            if ((dwPauseFlags & ~(CLUSAPI_NODE_PAUSE_REMAIN_ON_PAUSED_NODE_ON_MOVE_ERROR | CLUSAPI_NODE_AVOID_PLACEMENT
                    | CLUSAPI_NODE_PAUSE_RETRY_DRAIN_ON_FAILURE)) != 0) {
                return ERROR_INVALID_PARAMETER;
            }
            FNode target = null;
            if (hNodeDrainTarget != null) {
                target = get(hNodeDrainTarget, FNode.class);
                if (target == null) {
                    return ERROR_INVALID_HANDLE;
                }
                if (target == n) {
                    return ERROR_INVALID_TARGET_HANDLE;
                }
                if (target.state != ClusterNodeUp) {
                    return ERROR_HOST_NODE_NOT_AVAILABLE;
                }
            }
            if (bDrainNode) {
                if (n.draining) {
                    return ERROR_CLUSTER_NODE_DRAIN_IN_PROGRESS;
                }
                FNode to = target != null ? target : firstUpNodeOtherThan(n);
                if (to == null) {
                    return ERROR_CLUSTER_NODE_DOWN;
                }
                n.state = ClusterNodePaused;
                post(CLUSTER_OBJECT_TYPE_NODE, CLUSTER_CHANGE_NODE_STATE_V2, CLUSTER_CHANGE_NODE_STATE, n, n.name, n.id, "", "Node");
                for (FGroup g : groups.values()) {
                    if (g.owner == n) {
                        n.drained.add(g);
                        n.draining |= holdMoves;
                        startMove(g, to);
                    }
                }
                return ERROR_IO_PENDING;
            }
            n.state = ClusterNodePaused;
            post(CLUSTER_OBJECT_TYPE_NODE, CLUSTER_CHANGE_NODE_STATE_V2, CLUSTER_CHANGE_NODE_STATE, n, n.name, n.id, "", "Node");
            return ERROR_SUCCESS;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int ResumeClusterNode(HNODE hNode) {
        return ResumeClusterNodeEx(hNode, DoNotFailbackGroups, 0);
    }

    @Override
    public int ResumeClusterNodeEx(HNODE hNode, int eResumeFailbackType, int dwResumeFlagsReserved) {
        lock.lock();
        try {
            FNode n = get(hNode, FNode.class);
            if (n == null) {
                return ERROR_INVALID_HANDLE;
            }
            if (eResumeFailbackType < DoNotFailbackGroups || eResumeFailbackType > FailbackGroupsPerPolicy) {
                return ERROR_INVALID_PARAMETER;
            }
            if (n.state != ClusterNodePaused) {
                return ERROR_CLUSTER_NODE_NOT_PAUSED;
            }
            n.state = ClusterNodeUp;
            post(CLUSTER_OBJECT_TYPE_NODE, CLUSTER_CHANGE_NODE_STATE_V2, CLUSTER_CHANGE_NODE_STATE, n, n.name, n.id, "", "Node");
            if (eResumeFailbackType != DoNotFailbackGroups) {
                // the fake's "policy" is: fail back what was drained from this node
                for (FGroup g : n.drained) {
                    moveTo(g, n);
                }
            }
            n.drained.clear();
            return ERROR_SUCCESS;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int ClusterNodeControl(HNODE hNode, HNODE hHostNode, int code, byte[] in, int cbIn, byte[] out, int cbOut,
                                  IntByReference returned) {
        return locked(() -> {
            FNode n = get(hNode, FNode.class);
            return n == null ? ERROR_INVALID_HANDLE : control(n.name, n.id, CLUS_OBJECT_NODE, code, out, cbOut, returned);
        });
    }

    @Override
    public HNODE AddClusterNode(HCLUSTER hCluster, String lpszNodeName, ClusterSetupProgressCallback callback, Pointer arg) {
        HNODE added;
        lock.lock();
        try {
            if (get(hCluster, Conn.class) == null) {
                return fail(ERROR_INVALID_HANDLE);
            }
            if (nodes.containsKey(lpszNodeName)) {
                return fail(ERROR_ALREADY_EXISTS);
            }
            FNode n = new FNode(lpszNodeName, String.valueOf(nextId++));
            nodes.put(n.name, n);
            post(CLUSTER_OBJECT_TYPE_CLUSTER, CLUSTER_CHANGE_CLUSTER_NODE_ADDED_V2, CLUSTER_CHANGE_NODE_ADDED, null, n.name, n.id, "", "Node");
            added = new HNODE(newHandle(n));
        } finally {
            lock.unlock();
        }
        if (callback != null) {
            callback.callback(arg, 0, 0, 0, 100, lpszNodeName, ERROR_SUCCESS);
        }
        return added;
    }

    // =============================================================================================
    // groups
    // =============================================================================================

    @Override
    public HGROUP OpenClusterGroup(HCLUSTER hCluster, String lpszGroupName) {
        return locked(() -> {
            if (get(hCluster, Conn.class) == null) {
                return fail(ERROR_INVALID_HANDLE);
            }
            FGroup g = groups.get(lpszGroupName);
            return g == null ? fail(ERROR_GROUP_NOT_FOUND) : new HGROUP(newHandle(g));
        });
    }

    @Override
    public HGROUP OpenClusterGroupEx(HCLUSTER hCluster, String lpszGroupName, int dwDesiredAccess, IntByReference lpdwGrantedAccess) {
        HGROUP h = OpenClusterGroup(hCluster, lpszGroupName);
        if (h != null && lpdwGrantedAccess != null) {
            lpdwGrantedAccess.setValue(GENERIC_ALL);
        }
        return h;
    }

    @Override
    public boolean CloseClusterGroup(HGROUP hGroup) {
        return closeObject(hGroup, FGroup.class);
    }

    @Override
    public int GetClusterGroupState(HGROUP hGroup, char[] lpszNodeName, IntByReference lpcchNodeName) {
        return locked(() -> {
            FGroup g = get(hGroup, FGroup.class);
            if (g == null) {
                Native.setLastError(ERROR_INVALID_HANDLE);
                return ClusterGroupStateUnknown;
            }
            if (lpcchNodeName != null) {
                int rc = putString(g.owner == null ? "" : g.owner.name, lpszNodeName, lpcchNodeName);
                if (rc != ERROR_SUCCESS) {
                    Native.setLastError(rc);
                    return ClusterGroupStateUnknown;
                }
            }
            Native.setLastError(0);
            return g.state;
        });
    }

    @Override
    public HCLUSTER GetClusterFromGroup(HGROUP hGroup) {
        return clusterFrom(hGroup, FGroup.class);
    }

    @Override
    public int MoveClusterGroup(HGROUP hGroup, HNODE hDestinationNode) {
        return MoveClusterGroupEx(hGroup, hDestinationNode, 0, null, 0);
    }

    @Override
    public int MoveClusterGroupEx(HGROUP hGroup, HNODE hDestinationNode, int dwMoveFlags, byte[] lpInBuffer, int cbInBufferSize) {
        lock.lock();
        try {
            FGroup g = get(hGroup, FGroup.class);
            if (g == null) {
                return ERROR_INVALID_HANDLE;
            }
            if ((dwMoveFlags & ~0x3F) != 0) {
                return ERROR_INVALID_PARAMETER;
            }
            FNode to;
            if (hDestinationNode == null) {
                to = firstUpNodeOtherThan(g.owner);
            } else {
                to = get(hDestinationNode, FNode.class);
                if (to == null) {
                    return ERROR_INVALID_HANDLE;
                }
            }
            if (g.movingTo != null) {
                return ERROR_CLUSTER_GROUP_MOVING;
            }
            if (to == null || to.state != ClusterNodeUp) {
                return ERROR_HOST_NODE_NOT_AVAILABLE;
            }
            startMove(g, to);
            return ERROR_IO_PENDING;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int CancelClusterGroupOperation(HGROUP hGroup, int dwCancelFlagsReserved) {
        return locked(() -> get(hGroup, FGroup.class) == null ? ERROR_INVALID_HANDLE
                : dwCancelFlagsReserved != 0 ? ERROR_INVALID_PARAMETER : ERROR_SUCCESS);
    }

    @Override
    public int OnlineClusterGroup(HGROUP hGroup, HNODE hDestinationNode) {
        lock.lock();
        try {
            FGroup g = get(hGroup, FGroup.class);
            if (g == null) {
                return ERROR_INVALID_HANDLE;
            }
            FNode to = hDestinationNode == null ? g.owner : get(hDestinationNode, FNode.class);
            if (to == null || to.state != ClusterNodeUp) {
                return ERROR_HOST_NODE_NOT_AVAILABLE;
            }
            g.owner = to;
            g.state = ClusterGroupOnline;
            post(CLUSTER_OBJECT_TYPE_GROUP, CLUSTER_CHANGE_GROUP_STATE_V2, CLUSTER_CHANGE_GROUP_STATE, g, g.name, g.id, "", "Group");
            return ERROR_SUCCESS;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int OfflineClusterGroup(HGROUP hGroup) {
        lock.lock();
        try {
            FGroup g = get(hGroup, FGroup.class);
            if (g == null) {
                return ERROR_INVALID_HANDLE;
            }
            g.state = ClusterGroupOffline;
            post(CLUSTER_OBJECT_TYPE_GROUP, CLUSTER_CHANGE_GROUP_STATE_V2, CLUSTER_CHANGE_GROUP_STATE, g, g.name, g.id, "", "Group");
            return ERROR_SUCCESS;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int ClusterGroupControl(HGROUP hGroup, HNODE hHostNode, int code, byte[] in, int cbIn, byte[] out, int cbOut,
                                   IntByReference returned) {
        return locked(() -> {
            FGroup g = get(hGroup, FGroup.class);
            return g == null ? ERROR_INVALID_HANDLE : control(g.name, g.id, CLUS_OBJECT_GROUP, code, out, cbOut, returned);
        });
    }

    // =============================================================================================
    // resources, networks
    // =============================================================================================

    @Override
    public HRESOURCE OpenClusterResource(HCLUSTER hCluster, String lpszResourceName) {
        return locked(() -> {
            if (get(hCluster, Conn.class) == null) {
                return fail(ERROR_INVALID_HANDLE);
            }
            FResource r = resources.get(lpszResourceName);
            return r == null ? fail(5007) /* ERROR_RESOURCE_NOT_FOUND */ : new HRESOURCE(newHandle(r));
        });
    }

    @Override
    public HRESOURCE OpenClusterResourceEx(HCLUSTER hCluster, String lpszResourceName, int dwDesiredAccess,
                                           IntByReference lpdwGrantedAccess) {
        HRESOURCE h = OpenClusterResource(hCluster, lpszResourceName);
        if (h != null && lpdwGrantedAccess != null) {
            lpdwGrantedAccess.setValue(GENERIC_ALL);
        }
        return h;
    }

    @Override
    public boolean CloseClusterResource(HRESOURCE hResource) {
        return closeObject(hResource, FResource.class);
    }

    @Override
    public HCLUSTER GetClusterFromResource(HRESOURCE hResource) {
        return clusterFrom(hResource, FResource.class);
    }

    @Override
    public int GetClusterResourceState(HRESOURCE hResource, char[] lpszNodeName, IntByReference lpcchNodeName,
                                       char[] lpszGroupName, IntByReference lpcchGroupName) {
        return locked(() -> {
            FResource r = get(hResource, FResource.class);
            if (r == null) {
                Native.setLastError(ERROR_INVALID_HANDLE);
                return ClusterResourceStateUnknown;
            }
            int a = lpcchNodeName == null ? 0 : putString(r.group.owner == null ? "" : r.group.owner.name, lpszNodeName, lpcchNodeName);
            int b = lpcchGroupName == null ? 0 : putString(r.group.name, lpszGroupName, lpcchGroupName);
            if (a != 0 || b != 0) {
                Native.setLastError(a != 0 ? a : b);
                return ClusterResourceStateUnknown;
            }
            return r.state;
        });
    }

    private int setResourceState(HRESOURCE h, int state) {
        lock.lock();
        try {
            FResource r = get(h, FResource.class);
            if (r == null) {
                return ERROR_INVALID_HANDLE;
            }
            r.state = state;
            post(CLUSTER_OBJECT_TYPE_RESOURCE, CLUSTER_CHANGE_RESOURCE_STATE_V2, CLUSTER_CHANGE_RESOURCE_STATE, r, r.name, r.id,
                    r.group.id, "Resource");
            return ERROR_SUCCESS;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int OnlineClusterResource(HRESOURCE hResource) {
        return setResourceState(hResource, ClusterResourceOnline);
    }

    @Override
    public int OfflineClusterResource(HRESOURCE hResource) {
        return setResourceState(hResource, ClusterResourceOffline);
    }

    @Override
    public int ClusterResourceControl(HRESOURCE hResource, HNODE hHostNode, int code, byte[] in, int cbIn, byte[] out,
                                      int cbOut, IntByReference returned) {
        return locked(() -> {
            FResource r = get(hResource, FResource.class);
            return r == null ? ERROR_INVALID_HANDLE : control(r.name, r.id, CLUS_OBJECT_RESOURCE, code, out, cbOut, returned);
        });
    }

    @Override
    public HNETWORK OpenClusterNetwork(HCLUSTER hCluster, String lpszNetworkName) {
        return locked(() -> {
            if (get(hCluster, Conn.class) == null) {
                return fail(ERROR_INVALID_HANDLE);
            }
            FNetwork n = networks.get(lpszNetworkName);
            return n == null ? fail(5045) /* ERROR_CLUSTER_NETWORK_NOT_FOUND */ : new HNETWORK(newHandle(n));
        });
    }

    @Override
    public HNETWORK OpenClusterNetworkEx(HCLUSTER hCluster, String lpszNetworkName, int dwDesiredAccess,
                                         IntByReference lpdwGrantedAccess) {
        HNETWORK h = OpenClusterNetwork(hCluster, lpszNetworkName);
        if (h != null && lpdwGrantedAccess != null) {
            lpdwGrantedAccess.setValue(GENERIC_ALL);
        }
        return h;
    }

    @Override
    public boolean CloseClusterNetwork(HNETWORK hNetwork) {
        return closeObject(hNetwork, FNetwork.class);
    }

    @Override
    public int GetClusterNetworkState(HNETWORK hNetwork) {
        return locked(() -> {
            FNetwork n = get(hNetwork, FNetwork.class);
            if (n == null) {
                Native.setLastError(ERROR_INVALID_HANDLE);
                return ClusterNetworkStateUnknown;
            }
            return n.state;
        });
    }

    @Override
    public int ClusterNetworkControl(HNETWORK hNetwork, HNODE hHostNode, int code, byte[] in, int cbIn, byte[] out, int cbOut,
                                     IntByReference returned) {
        return locked(() -> {
            FNetwork n = get(hNetwork, FNetwork.class);
            return n == null ? ERROR_INVALID_HANDLE : control(n.name, n.id, CLUS_OBJECT_NETWORK, code, out, cbOut, returned);
        });
    }

    @Override
    public HNETINTERFACE OpenClusterNetInterface(HCLUSTER hCluster, String lpszInterfaceName) {
        return locked(() -> {
            if (get(hCluster, Conn.class) == null) {
                return fail(ERROR_INVALID_HANDLE);
            }
            FNetIf n = netIfs.get(lpszInterfaceName);
            return n == null ? fail(5047) /* ERROR_CLUSTER_NETINTERFACE_NOT_FOUND */ : new HNETINTERFACE(newHandle(n));
        });
    }

    @Override
    public boolean CloseClusterNetInterface(HNETINTERFACE hNetInterface) {
        return closeObject(hNetInterface, FNetIf.class);
    }

    @Override
    public int GetClusterNetInterfaceState(HNETINTERFACE hNetInterface) {
        return locked(() -> {
            FNetIf n = get(hNetInterface, FNetIf.class);
            if (n == null) {
                Native.setLastError(ERROR_INVALID_HANDLE);
                return ClusterNetInterfaceStateUnknown;
            }
            return n.state;
        });
    }

    @Override
    public int GetClusterNetInterface(HCLUSTER hCluster, String lpszNodeName, String lpszNetworkName, char[] lpszInterfaceName,
                                      IntByReference lpcchInterfaceName) {
        return locked(() -> {
            if (get(hCluster, Conn.class) == null) {
                return ERROR_INVALID_HANDLE;
            }
            for (FNetIf i : netIfs.values()) {
                if (i.node.name.equalsIgnoreCase(lpszNodeName) && i.network.name.equalsIgnoreCase(lpszNetworkName)) {
                    return putString(i.name, lpszInterfaceName, lpcchInterfaceName);
                }
            }
            return 5047;
        });
    }

    @Override
    public int ClusterNetInterfaceControl(HNETINTERFACE hNetInterface, HNODE hHostNode, int code, byte[] in, int cbIn,
                                          byte[] out, int cbOut, IntByReference returned) {
        return locked(() -> {
            FNetIf n = get(hNetInterface, FNetIf.class);
            return n == null ? ERROR_INVALID_HANDLE : control(n.name, n.id, CLUS_OBJECT_NETINTERFACE, code, out, cbOut, returned);
        });
    }

    // =============================================================================================
    // 2. cluster registry
    // =============================================================================================

    private static final int ERROR_KEY_DELETED = 1018;

    @Override
    public int ClusterRegOpenKey(WinReg.HKEY hKey, String lpszSubKey, int samDesired, WinReg.HKEYByReference phkResult) {
        return locked(() -> {
            FKey k = key(hKey);
            if (k == null) {
                return ERROR_INVALID_HANDLE;
            }
            if (k.deleted) {
                return ERROR_KEY_DELETED;
            }
            if (!validPath(lpszSubKey)) {
                return ERROR_INVALID_PARAMETER;
            }
            FKey sub = resolve(k, lpszSubKey);
            if (sub == null) {
                return ERROR_FILE_NOT_FOUND;
            }
            phkResult.setValue(new WinReg.HKEY(newHandle(new KeyH(sub))));
            return ERROR_SUCCESS;
        });
    }

    @Override
    public int ClusterRegCreateKey(WinReg.HKEY hKey, String lpszSubKey, int dwOptions, int samDesired,
                                   WinBase.SECURITY_ATTRIBUTES sa, WinReg.HKEYByReference phkResult, IntByReference disposition) {
        lock.lock();
        try {
            FKey k = key(hKey);
            if (k == null) {
                return ERROR_INVALID_HANDLE;
            }
            if (k.deleted) {
                return ERROR_KEY_DELETED;
            }
            if (!validPath(lpszSubKey) || dwOptions != REG_OPTION_NON_VOLATILE) {
                return ERROR_INVALID_PARAMETER;
            }
            boolean[] created = new boolean[1];
            FKey sub = create(k, lpszSubKey, null, created);
            if (created[0]) {
                registryEvent(sub, CLUSTER_CHANGE_REGISTRY_NAME);
            }
            if (disposition != null) {
                disposition.setValue(created[0] ? REG_CREATED_NEW_KEY : REG_OPENED_EXISTING_KEY);
            }
            phkResult.setValue(new WinReg.HKEY(newHandle(new KeyH(sub))));
            return ERROR_SUCCESS;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int ClusterRegCreateKeyEx(WinReg.HKEY hKey, String lpSubKey, int dwOptions, int samDesired,
                                     WinBase.SECURITY_ATTRIBUTES sa, WinReg.HKEYByReference phkResult, IntByReference disposition,
                                     String lpszReason) {
        return ClusterRegCreateKey(hKey, lpSubKey, dwOptions, samDesired, sa, phkResult, disposition);
    }

    @Override
    public int ClusterRegCloseKey(WinReg.HKEY hKey) {
        return locked(() -> {
            if (get(hKey, KeyH.class) == null) {
                return ERROR_INVALID_HANDLE;
            }
            drop(hKey);
            return ERROR_SUCCESS;
        });
    }

    @Override
    public int ClusterRegDeleteKey(WinReg.HKEY hKey, String lpszSubKey) {
        lock.lock();
        try {
            FKey k = key(hKey);
            if (k == null) {
                return ERROR_INVALID_HANDLE;
            }
            if (!validPath(lpszSubKey) || lpszSubKey.isEmpty()) {
                return ERROR_INVALID_PARAMETER;
            }
            FKey sub = resolve(k, lpszSubKey);
            if (sub == null) {
                return ERROR_FILE_NOT_FOUND;
            }
            if (!sub.children.isEmpty()) {
                return ERROR_KEY_HAS_CHILDREN;
            }
            registryEvent(sub, CLUSTER_CHANGE_REGISTRY_NAME);
            deleteTree(sub, null);
            return ERROR_SUCCESS;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int ClusterRegDeleteKeyEx(WinReg.HKEY hKey, String lpSubKey, String lpszReason) {
        return ClusterRegDeleteKey(hKey, lpSubKey);
    }

    @Override
    public int ClusterRegEnumKey(WinReg.HKEY hKey, int dwIndex, char[] lpszName, IntByReference lpcchName, WinBase.FILETIME ft) {
        return locked(() -> {
            FKey k = key(hKey);
            if (k == null) {
                return ERROR_INVALID_HANDLE;
            }
            if (k.deleted) {
                return ERROR_KEY_DELETED;
            }
            // the order is arbitrary on Windows; the fake uses reverse order so callers cannot rely on sorting
            List<String> names = new ArrayList<>(k.children.descendingKeySet());
            if (dwIndex < 0 || dwIndex >= names.size()) {
                return ERROR_NO_MORE_ITEMS;
            }
            return putString(k.children.get(names.get(dwIndex)).name, lpszName, lpcchName);
        });
    }

    @Override
    public int ClusterRegEnumValue(WinReg.HKEY hKey, int dwIndex, char[] lpszValueName, IntByReference lpcchValueName,
                                   IntByReference lpdwType, byte[] lpData, IntByReference lpcbData) {
        return locked(() -> {
            FKey k = key(hKey);
            if (k == null) {
                return ERROR_INVALID_HANDLE;
            }
            if (k.deleted) {
                return ERROR_KEY_DELETED;
            }
            List<String> names = new ArrayList<>(k.values.descendingKeySet());
            if (dwIndex < 0 || dwIndex >= names.size()) {
                return ERROR_NO_MORE_ITEMS;
            }
            String n = k.valueCase.get(names.get(dwIndex));
            FVal v = k.values.get(n);
            int a = putString(n, lpszValueName, lpcchValueName);
            int b = putBytes(v.data, lpData, lpcbData);
            if (lpdwType != null) {
                lpdwType.setValue(v.type);
            }
            return a != ERROR_SUCCESS ? a : b;
        });
    }

    @Override
    public int ClusterRegQueryInfoKey(WinReg.HKEY hKey, IntByReference lpcSubKeys, IntByReference lpcchMaxSubKeyLen,
                                      IntByReference lpcValues, IntByReference lpcchMaxValueNameLen, IntByReference lpcbMaxValueLen,
                                      IntByReference lpcbSecurityDescriptor, WinBase.FILETIME lpftLastWriteTime) {
        return locked(() -> {
            FKey k = key(hKey);
            if (k == null) {
                return ERROR_INVALID_HANDLE;
            }
            if (lpcSubKeys != null) {
                lpcSubKeys.setValue(k.children.size());
            }
            if (lpcchMaxSubKeyLen != null) {
                lpcchMaxSubKeyLen.setValue(k.children.keySet().stream().mapToInt(String::length).max().orElse(0));
            }
            if (lpcValues != null) {
                lpcValues.setValue(k.values.size());
            }
            if (lpcchMaxValueNameLen != null) {
                lpcchMaxValueNameLen.setValue(k.values.keySet().stream().mapToInt(String::length).max().orElse(0));
            }
            if (lpcbMaxValueLen != null) {
                lpcbMaxValueLen.setValue(k.values.values().stream().mapToInt(v -> v.data.length).max().orElse(0));
            }
            if (lpcbSecurityDescriptor != null) {
                lpcbSecurityDescriptor.setValue(k.security.length);
            }
            return ERROR_SUCCESS;
        });
    }

    @Override
    public int ClusterRegSetValue(WinReg.HKEY hKey, String lpszValueName, int dwType, byte[] lpData, int cbData) {
        lock.lock();
        try {
            FKey k = key(hKey);
            if (k == null) {
                return ERROR_INVALID_HANDLE;
            }
            if (k.deleted) {
                return ERROR_KEY_DELETED;
            }
            byte[] d = lpData == null ? new byte[0] : Arrays.copyOf(lpData, cbData);
            k.put(lpszValueName == null ? "" : lpszValueName, new FVal(dwType, d));
            registryEvent(k, CLUSTER_CHANGE_REGISTRY_VALUE);
            return ERROR_SUCCESS;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int ClusterRegSetValueEx(WinReg.HKEY hKey, String lpszValueName, int dwType, byte[] lpData, int cbData, String reason) {
        return ClusterRegSetValue(hKey, lpszValueName, dwType, lpData, cbData);
    }

    @Override
    public int ClusterRegQueryValue(WinReg.HKEY hKey, String lpszValueName, IntByReference lpdwValueType, byte[] lpData,
                                    IntByReference lpcbData) {
        return locked(() -> {
            FKey k = key(hKey);
            if (k == null) {
                return ERROR_INVALID_HANDLE;
            }
            if (k.deleted) {
                return ERROR_KEY_DELETED;
            }
            FVal v = k.values.get(lpszValueName == null ? "" : lpszValueName);
            if (v == null) {
                return ERROR_FILE_NOT_FOUND;
            }
            if (lpdwValueType != null) {
                lpdwValueType.setValue(v.type);
            }
            return putBytes(v.data, lpData, lpcbData);
        });
    }

    @Override
    public int ClusterRegDeleteValue(WinReg.HKEY hKey, String lpszValueName) {
        lock.lock();
        try {
            FKey k = key(hKey);
            if (k == null) {
                return ERROR_INVALID_HANDLE;
            }
            if (k.deleted) {
                return ERROR_KEY_DELETED;
            }
            if (k.remove(lpszValueName == null ? "" : lpszValueName) == null) {
                return ERROR_FILE_NOT_FOUND;
            }
            registryEvent(k, CLUSTER_CHANGE_REGISTRY_VALUE);
            return ERROR_SUCCESS;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int ClusterRegDeleteValueEx(WinReg.HKEY hKey, String lpszValueName, String lpszReason) {
        return ClusterRegDeleteValue(hKey, lpszValueName);
    }

    @Override
    public int ClusterRegGetKeySecurity(WinReg.HKEY hKey, int requestedInformation, byte[] sd, IntByReference cb) {
        return locked(() -> {
            FKey k = key(hKey);
            return k == null ? ERROR_INVALID_HANDLE : putBytes(k.security, sd, cb) == ERROR_MORE_DATA ? ERROR_INSUFFICIENT_BUFFER
                    : putBytes(k.security, sd, cb);
        });
    }

    @Override
    public int ClusterRegSetKeySecurity(WinReg.HKEY hKey, int securityInformation, byte[] sd) {
        lock.lock();
        try {
            FKey k = key(hKey);
            if (k == null) {
                return ERROR_INVALID_HANDLE;
            }
            if (sd == null || sd.length < 20 || sd[0] != 1) {
                return 1338; // ERROR_INVALID_SECURITY_DESCR
            }
            k.security = sd.clone();
            registryEvent(k, CLUSTER_CHANGE_REGISTRY_ATTRIBUTES);
            return ERROR_SUCCESS;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int ClusterRegSetKeySecurityEx(WinReg.HKEY hKey, int securityInformation, byte[] sd, String lpszReason) {
        return ClusterRegSetKeySecurity(hKey, securityInformation, sd);
    }

    @Override
    public int ClusterRegSyncDatabase(HCLUSTER hCluster, int flags) {
        return locked(() -> get(hCluster, Conn.class) == null ? ERROR_INVALID_HANDLE : ERROR_SUCCESS);
    }

    // =============================================================================================
    // 3.1 write batches
    // =============================================================================================

    @Override
    public int ClusterRegCreateBatch(WinReg.HKEY hKey, PointerByReference pHREGBATCH) {
        return locked(() -> {
            if (hKey == null) {
                return ERROR_INVALID_PARAMETER;
            }
            FKey k = key(hKey);
            if (k == null) {
                return ERROR_INVALID_HANDLE;
            }
            pHREGBATCH.setValue(newHandle(new WriteBatchH(k)));
            return ERROR_SUCCESS;
        });
    }

    @Override
    public int ClusterRegBatchAddCommand(HREGBATCH hRegBatch, int dwCommand, String wzName, int dwOptions, byte[] lpData, int cbData) {
        return locked(() -> {
            WriteBatchH b = get(hRegBatch, WriteBatchH.class);
            if (b == null) {
                return ERROR_INVALID_HANDLE;
            }
            boolean valid = dwCommand == CLUSREG_SET_VALUE || dwCommand == CLUSREG_CREATE_KEY || dwCommand == CLUSREG_DELETE_KEY
                    || dwCommand == CLUSREG_DELETE_VALUE || dwCommand == CLUSREG_CONTROL_COMMAND
                    || (dwCommand >= CLUSREG_CONDITION_EXISTS && dwCommand <= CLUSREG_CONDITION_KEY_NOT_EXISTS);
            if (!valid || (lpData != null && cbData > lpData.length) || cbData < 0) {
                return ERROR_INVALID_PARAMETER;
            }
            b.commands.add(new BatchCmd(dwCommand, wzName, dwOptions, lpData == null ? new byte[0] : Arrays.copyOf(lpData, cbData)));
            return ERROR_SUCCESS;
        });
    }

    @Override
    public int ClusterRegCloseBatch(HREGBATCH hRegBatch, boolean bCommit, IntByReference failedCommandNumber) {
        return closeBatch(hRegBatch, bCommit, failedCommandNumber);
    }

    @Override
    public int ClusterRegCloseBatchEx(HREGBATCH hRegBatch, int flags, IntByReference failedCommandNumber) {
        if (flags != 0 && flags != CLUSREG_DATABASE_SYNC_WRITE_TO_ALL_NODES && flags != CLUSREG_DATABASE_ISOLATE_READ) {
            lock.lock();
            try {
                if (get(hRegBatch, WriteBatchH.class) != null) {
                    drop(hRegBatch);
                }
            } finally {
                lock.unlock();
            }
            return ERROR_INVALID_PARAMETER;
        }
        return closeBatch(hRegBatch, true, failedCommandNumber);
    }

    private int closeBatch(HREGBATCH h, boolean commit, IntByReference failed) {
        WriteBatchH reissued;
        Runnable between;
        lock.lock();
        try {
            WriteBatchH b = get(h, WriteBatchH.class);
            if (b == null) {
                return ERROR_INVALID_HANDLE;
            }
            drop(h);
            if (!commit) {
                return ERROR_SUCCESS;
            }
            if (reissueBetween != null) {
                between = reissueBetween;
                reissueBetween = null;
                execute(b, new IntByReference()); // the first execution, whose answer is lost
                reissued = b;
            } else {
                return closeBatchLocked(b, failed);
            }
        } finally {
            lock.unlock();
        }
        between.run();
        lock.lock();
        try {
            return execute(reissued, failed);
        } finally {
            lock.unlock();
        }
    }

    private int closeBatchLocked(WriteBatchH b, IntByReference failed) {
        int injected = injectedCloseBatchError;
        injectedCloseBatchError = 0;
        if (injected != 0 && !injectedAfterApply) {
            if (failed != null) {
                failed.setValue(-1);
            }
            return injected;
        }
        int rc = execute(b, failed);
        return injected != 0 && rc == ERROR_SUCCESS ? injected : rc;
    }

    private int execute(WriteBatchH b, IntByReference failed) {
        if (b.root.deleted) {
            return ERROR_KEY_DELETED;
        }
        List<Runnable> undo = new ArrayList<>();
        List<BatchCmd> mirror = new ArrayList<>();
        FKey snapshot = conditionsSeeEarlierWrites ? null : copyTree(b.root, null);
        FKey current = b.root;
        for (int i = 0; i < b.commands.size(); i++) {
            BatchCmd c = b.commands.get(i);
            int rc = ERROR_SUCCESS;
            switch (c.command) {
                case CLUSREG_CREATE_KEY -> {
                    if (!validPath(c.name)) {
                        rc = ERROR_INVALID_PARAMETER;
                    } else {
                        current = create(b.root, c.name, undo, null);
                        mirror.add(c);
                    }
                }
                case CLUSREG_DELETE_KEY -> {
                    if (!validPath(c.name) || c.name.isEmpty()) {
                        rc = ERROR_INVALID_PARAMETER;
                    } else {
                        FKey k = resolve(b.root, c.name);
                        if (k != null) {
                            deleteTree(k, undo);
                        }
                        mirror.add(c);
                        current = null;
                    }
                }
                case CLUSREG_SET_VALUE -> {
                    if (current == null) {
                        rc = ERROR_INVALID_PARAMETER;
                    } else {
                        String n = c.name == null ? "" : c.name;
                        FKey k = current;
                        String oldCase = k.valueCase.get(n);
                        FVal old = k.values.get(n);
                        k.put(n, new FVal(c.options, c.data));
                        undo.add(() -> {
                            k.remove(n);
                            if (old != null) {
                                k.put(oldCase, old);
                            }
                        });
                        if (old != null) {
                            mirror.add(new BatchCmd(CLUSREG_VALUE_DELETED, n, old.type, old.data));
                        }
                        mirror.add(c);
                    }
                }
                case CLUSREG_DELETE_VALUE -> {
                    if (current == null) {
                        rc = ERROR_INVALID_PARAMETER;
                    } else {
                        String n = c.name == null ? "" : c.name;
                        FKey k = current;
                        String oldCase = k.valueCase.get(n);
                        FVal old = k.remove(n);
                        if (old != null) {
                            undo.add(() -> k.put(oldCase, old));
                            mirror.add(new BatchCmd(CLUSREG_VALUE_DELETED, n, old.type, old.data));
                            mirror.add(new BatchCmd(CLUSREG_DELETE_VALUE, n, old.type, old.data));
                        } else {
                            mirror.add(new BatchCmd(CLUSREG_DELETE_VALUE, n, REG_NONE, new byte[0]));
                        }
                    }
                }
                case CLUSREG_CONTROL_COMMAND -> {
                }
                default -> rc = condition(b.root, snapshot, current, c);
            }
            if (rc != ERROR_SUCCESS) {
                for (int u = undo.size() - 1; u >= 0; u--) {
                    undo.get(u).run();
                }
                if (failed != null) {
                    failed.setValue(i + failedCommandBase);
                }
                return rc;
            }
        }
        for (BatchPort p : batchPorts) {
            if (!p.closed) {
                String prefix = relative(p.key, b.root);
                if (prefix != null) {
                    for (BatchCmd m : mirror) {
                        boolean keyCmd = m.command == CLUSREG_CREATE_KEY || m.command == CLUSREG_DELETE_KEY;
                        p.pending.add(keyCmd && !prefix.isEmpty() ? new BatchCmd(m.command, prefix + "\\" + m.name, m.options, m.data) : m);
                    }
                }
            }
        }
        if (!mirror.isEmpty()) {
            registryEvent(b.root, CLUSTER_CHANGE_REGISTRY_VALUE | CLUSTER_CHANGE_REGISTRY_NAME);
        }
        changed.signalAll();
        return ERROR_SUCCESS;
    }

    /** Evaluates a condition command; 0 when it holds, 5986 when not, 87 when it cannot be evaluated. */
    private int condition(FKey root, FKey snapshot, FKey current, BatchCmd c) {
        FKey base = root;
        FKey at = current;
        if (snapshot != null) {
            base = snapshot;
            at = current == null ? null : resolve(snapshot, relative(root, current));
        }
        boolean holds;
        switch (c.command) {
            case CLUSREG_CONDITION_KEY_EXISTS, CLUSREG_CONDITION_KEY_NOT_EXISTS -> {
                if (!validPath(c.name)) {
                    return ERROR_INVALID_PARAMETER;
                }
                boolean exists = resolve(base, c.name) != null;
                holds = c.command == CLUSREG_CONDITION_KEY_EXISTS ? exists : !exists;
            }
            default -> {
                if (current == null) {
                    return ERROR_INVALID_PARAMETER;
                }
                FVal v = at == null ? null : at.values.get(c.name == null ? "" : c.name);
                holds = switch (c.command) {
                    case CLUSREG_CONDITION_EXISTS -> v != null;
                    case CLUSREG_CONDITION_NOT_EXISTS -> v == null;
                    case CLUSREG_CONDITION_IS_EQUAL -> v != null && v.type == c.options && Arrays.equals(v.data, c.data);
                    case CLUSREG_CONDITION_IS_NOT_EQUAL -> v == null || v.type != c.options || !Arrays.equals(v.data, c.data);
                    case CLUSREG_CONDITION_IS_GREATER_THAN -> v != null && compare(v, c) > 0;
                    case CLUSREG_CONDITION_IS_LESS_THAN -> v != null && compare(v, c) < 0;
                    default -> false;
                };
            }
        }
        return holds ? ERROR_SUCCESS : ERROR_CLUSTER_DATABASE_UPDATE_CONDITION_FAILED;
    }

    /** Numbers compare as unsigned little-endian DWORD/QWORD; everything else byte-wise unsigned. */
    private static int compare(FVal v, BatchCmd c) {
        if ((v.type == REG_DWORD || v.type == REG_QWORD) && v.type == c.options && v.data.length == c.data.length) {
            ByteBuffer a = ByteBuffer.wrap(v.data).order(ByteOrder.LITTLE_ENDIAN);
            ByteBuffer b = ByteBuffer.wrap(c.data).order(ByteOrder.LITTLE_ENDIAN);
            return v.type == REG_DWORD ? Integer.compareUnsigned(a.getInt(), b.getInt()) : Long.compareUnsigned(a.getLong(), b.getLong());
        }
        return Arrays.compareUnsigned(v.data, c.data);
    }

    // =============================================================================================
    // 3.4 read batches
    // =============================================================================================

    @Override
    public int ClusterRegCreateReadBatch(WinReg.HKEY hKey, PointerByReference phRegReadBatch) {
        return locked(() -> {
            FKey k = key(hKey);
            if (k == null) {
                return ERROR_INVALID_HANDLE;
            }
            phRegReadBatch.setValue(newHandle(new ReadBatchH(k)));
            return ERROR_SUCCESS;
        });
    }

    @Override
    public int ClusterRegReadBatchAddCommand(HREGREADBATCH hRegReadBatch, String wzSubkeyName, String wzValueName) {
        return locked(() -> {
            ReadBatchH b = get(hRegReadBatch, ReadBatchH.class);
            if (b == null) {
                return ERROR_INVALID_HANDLE;
            }
            if (failReadBatchAdd != 0) {
                int rc = failReadBatchAdd;
                failReadBatchAdd = 0;
                return rc;
            }
            b.reads.add(new String[]{wzSubkeyName, wzValueName});
            return ERROR_SUCCESS;
        });
    }

    @Override
    public int ClusterRegCloseReadBatch(HREGREADBATCH hRegReadBatch, PointerByReference phRegReadBatchReply) {
        return ClusterRegCloseReadBatchEx(hRegReadBatch, 0, phRegReadBatchReply);
    }

    @Override
    public int ClusterRegCloseReadBatchEx(HREGREADBATCH hRegReadBatch, int flags, PointerByReference reply) {
        return locked(() -> {
            ReadBatchH b = get(hRegReadBatch, ReadBatchH.class);
            if (b == null) {
                return ERROR_INVALID_HANDLE;
            }
            drop(hRegReadBatch);
            if (flags != 0 && flags != CLUSREG_DATABASE_ISOLATE_READ) {
                return ERROR_INVALID_PARAMETER;
            }
            // one lock hold: every answer comes from the same state (isolated or not, the fake is atomic)
            ReplyH r = new ReplyH();
            for (String[] read : b.reads) {
                FKey k = read[0] == null ? b.root : validPath(read[0]) ? resolve(b.root, read[0]) : null;
                FVal v = k == null || k.deleted ? null : k.values.get(read[1] == null ? "" : read[1]);
                r.records.add(new Object[]{read[0], read[1], v});
            }
            reply.setValue(newHandle(r));
            return ERROR_SUCCESS;
        });
    }

    @Override
    public int ClusterRegReadBatchReplyNextCommand(HREGREADBATCHREPLY h, CLUSTER_READ_BATCH_COMMAND out) {
        return locked(() -> {
            ReplyH r = get(h, ReplyH.class);
            if (r == null) {
                return ERROR_INVALID_HANDLE;
            }
            if (r.next >= r.records.size()) {
                return ERROR_NO_MORE_ITEMS;
            }
            Object[] rec = r.records.get(r.next++);
            FVal v = (FVal) rec[2];
            List<Memory> keep = new ArrayList<>();
            out.Command = v == null ? CLUSREG_READ_ERROR : CLUSREG_READ_VALUE;
            out.dwOptions = v == null ? ERROR_FILE_NOT_FOUND : v.type;
            out.wzSubkeyName = wide((String) rec[0], keep);
            out.wzValueName = wide((String) rec[1], keep);
            out.lpData = v == null ? null : mem(v.data, keep);
            out.cbData = v == null ? 0 : v.data.length;
            out.write();
            replyMemory.computeIfAbsent(r, x -> new ArrayList<>()).addAll(keep);
            return ERROR_SUCCESS;
        });
    }

    private final Map<Object, List<Memory>> replyMemory = new HashMap<>();

    @Override
    public int ClusterRegCloseReadBatchReply(HREGREADBATCHREPLY h) {
        return locked(() -> {
            ReplyH r = get(h, ReplyH.class);
            if (r == null) {
                return ERROR_INVALID_HANDLE;
            }
            replyMemory.remove(r);
            drop(h);
            return ERROR_SUCCESS;
        });
    }

    // =============================================================================================
    // 4. batch notifications
    // =============================================================================================

    @Override
    public int ClusterRegCreateBatchNotifyPort(WinReg.HKEY hKey, PointerByReference phBatchNotifyPort) {
        return locked(() -> {
            FKey k = key(hKey);
            if (k == null) {
                return ERROR_INVALID_HANDLE;
            }
            if (failPortCreations > 0) {
                failPortCreations--;
                return failPortCreationRc;
            }
            BatchPort p = new BatchPort(k);
            batchPorts.add(p);
            phBatchNotifyPort.setValue(newHandle(p));
            return ERROR_SUCCESS;
        });
    }

    @Override
    public int ClusterRegGetBatchNotification(HREGBATCHPORT hBatchNotify, PointerByReference phBatchNotification) {
        lock.lock();
        try {
            BatchPort p = get(hBatchNotify, BatchPort.class);
            if (p == null) {
                return ERROR_INVALID_HANDLE;
            }
            while (p.pending.isEmpty() && !p.closed && p.failWith == 0) {
                changed.awaitUninterruptibly();
            }
            if (p.closed) {
                return ERROR_NO_MORE_ITEMS;
            }
            if (p.failWith != 0) {
                int rc = p.failWith;
                p.failWith = 0;
                return rc;
            }
            NotificationH n = new NotificationH(new ArrayList<>(p.pending));
            p.pending.clear();
            phBatchNotification.setValue(newHandle(n));
            return ERROR_SUCCESS;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int ClusterRegBatchReadCommand(HREGBATCHNOTIFICATION hBatchNotification, CLUSTER_BATCH_COMMAND out) {
        return locked(() -> {
            NotificationH n = get(hBatchNotification, NotificationH.class);
            if (n == null) {
                return ERROR_INVALID_HANDLE;
            }
            if (n.next >= n.commands.size()) {
                return ERROR_NO_MORE_ITEMS;
            }
            BatchCmd c = n.commands.get(n.next++);
            out.Command = c.command;
            out.dwOptions = c.command == CLUSREG_SET_VALUE || c.command == CLUSREG_DELETE_VALUE || c.command == CLUSREG_VALUE_DELETED
                    ? c.options : 0;
            out.wzName = wide(c.name, n.memory);
            out.lpData = mem(c.data, n.memory);
            out.cbData = c.data.length;
            out.write();
            return ERROR_SUCCESS;
        });
    }

    @Override
    public int ClusterRegBatchCloseNotification(HREGBATCHNOTIFICATION hBatchNotification) {
        return locked(() -> {
            if (get(hBatchNotification, NotificationH.class) == null) {
                return ERROR_INVALID_HANDLE;
            }
            drop(hBatchNotification);
            return ERROR_SUCCESS;
        });
    }

    @Override
    public int ClusterRegCloseBatchNotifyPort(HREGBATCHPORT hBatchNotifyPort) {
        lock.lock();
        try {
            BatchPort p = get(hBatchNotifyPort, BatchPort.class);
            if (p == null) {
                return ERROR_INVALID_HANDLE;
            }
            p.closed = true;
            batchPorts.remove(p);
            drop(hBatchNotifyPort);
            changed.signalAll();
            return ERROR_SUCCESS;
        } finally {
            lock.unlock();
        }
    }

    // =============================================================================================
    // 5. object notifications
    // =============================================================================================

    private boolean isInvalidHandleValue(WinNT.HANDLE h) {
        return h != null && h.getPointer() != null && Pointer.nativeValue(h.getPointer()) == -1L;
    }

    @Override
    public HCHANGE CreateClusterNotifyPort(HCHANGE hChange, HCLUSTER hCluster, int dwFilter, BaseTSD.DWORD_PTR key) {
        return locked(() -> {
            ChangePort p;
            HCHANGE out;
            if (isInvalidHandleValue(hChange)) {
                if (get(hCluster, Conn.class) == null) {
                    return fail(ERROR_INVALID_HANDLE);
                }
                p = new ChangePort(false);
                changePorts.add(p);
                out = new HCHANGE(newHandle(p));
                p.eventHandle = Pointer.nativeValue(newHandle(new EventH(p)));
            } else {
                p = get(hChange, ChangePort.class);
                if (p == null || p.v2) {
                    return fail(ERROR_INVALID_HANDLE);
                }
                out = hChange;
            }
            p.filters.add(new Filter(false, 0, dwFilter & 0xFFFFFFFFL, null, key.longValue()));
            return out;
        });
    }

    @Override
    public int RegisterClusterNotify(HCHANGE hChange, int dwFilterType, WinNT.HANDLE hObject, BaseTSD.DWORD_PTR key) {
        return locked(() -> {
            ChangePort p = get(hChange, ChangePort.class);
            Object target = hObject == null ? null : handles.get(Pointer.nativeValue(hObject.getPointer()));
            if (p == null || p.v2 || target == null) {
                return ERROR_INVALID_HANDLE;
            }
            p.filters.add(new Filter(false, 0, dwFilterType & 0xFFFFFFFFL, target instanceof KeyH k ? k.key : target, key.longValue()));
            return ERROR_SUCCESS;
        });
    }

    @Override
    public int GetClusterNotify(HCHANGE hChange, BaseTSD.ULONG_PTRByReference lpdwNotifyKey, IntByReference lpdwFilterType,
                                char[] lpszName, IntByReference lpcchName, int dwMilliseconds) {
        lock.lock();
        try {
            ChangePort p = get(hChange, ChangePort.class);
            if (p == null || p.v2) {
                return ERROR_INVALID_HANDLE;
            }
            if (!awaitEvent(p, dwMilliseconds)) {
                return p.closed ? ERROR_INVALID_HANDLE : WAIT_TIMEOUT;
            }
            Event e = p.queue.peek();
            int rc = putString(e.name, lpszName, lpcchName);
            if (rc != ERROR_SUCCESS) {
                return rc;
            }
            p.queue.poll();
            lpdwNotifyKey.setValue(new BaseTSD.ULONG_PTR(e.key));
            lpdwFilterType.setValue((int) e.flags);
            return ERROR_SUCCESS;
        } finally {
            lock.unlock();
        }
    }

    /** Waits until the port has an event, for at most {@code millis} (0xFFFFFFFF = INFINITE). */
    private boolean awaitEvent(ChangePort p, int millis) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis & 0xFFFFFFFFL);
        while (p.queue.isEmpty() && !p.closed) {
            if (awaitChange(deadline, millis) != EventWaiter.WAIT_OBJECT_0) {
                return false;
            }
        }
        return !p.queue.isEmpty();
    }

    /**
     * One wait for a change, with the lock held, until {@code deadline} ({@code millis} -1: INFINITE):
     * WAIT_OBJECT_0 when woken (the caller looks again), WAIT_TIMEOUT once the deadline passed, -1 when
     * interrupted (the interrupt stays set).
     */
    private int awaitChange(long deadline, int millis) {
        long left = deadline - System.nanoTime();
        if (millis != -1 && left <= 0) {
            return EventWaiter.WAIT_TIMEOUT;
        }
        try {
            if (millis == -1) {
                changed.await();
            } else {
                changed.awaitNanos(left);
            }
            return EventWaiter.WAIT_OBJECT_0;
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    @Override
    public boolean CloseClusterNotifyPort(HCHANGE hChange) {
        lock.lock();
        try {
            ChangePort p = get(hChange, ChangePort.class);
            if (p != null) {
                p.closed = true;
                changePorts.remove(p);
                drop(hChange);
                handles.remove(p.eventHandle);
                changed.signalAll();
            }
            return true; // "always returns TRUE"
        } finally {
            lock.unlock();
        }
    }

    @Override
    public HCHANGE CreateClusterNotifyPortV2(HCHANGE hChange, HCLUSTER hCluster, NOTIFY_FILTER_AND_TYPE filters, int count,
                                             BaseTSD.DWORD_PTR key) {
        // as JNA would: the structure argument is written to native memory before the call
        filters.write();
        NOTIFY_FILTER_AND_TYPE[] all = count > 0 ? (NOTIFY_FILTER_AND_TYPE[]) new NOTIFY_FILTER_AND_TYPE(filters.getPointer()).toArray(count)
                : new NOTIFY_FILTER_AND_TYPE[0];
        return locked(() -> {
            ChangePort p;
            HCHANGE out;
            if (isInvalidHandleValue(hChange)) {
                if (!isInvalidHandleValue(hCluster) && get(hCluster, Conn.class) == null) {
                    return fail(ERROR_INVALID_HANDLE);
                }
                p = new ChangePort(true);
                changePorts.add(p);
                out = new HCHANGE(newHandle(p));
                p.eventHandle = Pointer.nativeValue(newHandle(new EventH(p)));
            } else {
                p = get(hChange, ChangePort.class);
                if (p == null || !p.v2) {
                    return fail(ERROR_INVALID_HANDLE);
                }
                out = hChange;
            }
            for (NOTIFY_FILTER_AND_TYPE f : all) {
                f.read();
                p.filters.add(new Filter(true, f.dwObjectType, f.FilterFlags, null, key.longValue()));
            }
            return out;
        });
    }

    @Override
    public int RegisterClusterNotifyV2(HCHANGE hChange, NOTIFY_FILTER_AND_TYPE.ByValue filter, WinNT.HANDLE hObject,
                                       BaseTSD.DWORD_PTR key) {
        return locked(() -> {
            ChangePort p = get(hChange, ChangePort.class);
            Object target = hObject == null ? null : handles.get(Pointer.nativeValue(hObject.getPointer()));
            if (p == null || !p.v2 || target == null) {
                return ERROR_INVALID_HANDLE;
            }
            p.filters.add(new Filter(true, filter.dwObjectType, filter.FilterFlags, target instanceof KeyH k ? k.key : target,
                    key.longValue()));
            return ERROR_SUCCESS;
        });
    }

    @Override
    public int GetNotifyEventHandle(HCHANGE hChange, WinNT.HANDLEByReference lphTargetEvent) {
        return locked(() -> {
            ChangePort p = get(hChange, ChangePort.class);
            if (p == null) {
                return ERROR_INVALID_HANDLE;
            }
            lphTargetEvent.setValue(new WinNT.HANDLE(new Pointer(p.eventHandle)));
            return ERROR_SUCCESS;
        });
    }

    @Override
    public int GetClusterNotifyV2(HCHANGE hChange, BaseTSD.ULONG_PTRByReference lpdwNotifyKey, NOTIFY_FILTER_AND_TYPE ft,
                                  byte[] buffer, IntByReference cbBuffer, char[] objectId, IntByReference cchObjectId,
                                  char[] parentId, IntByReference cchParentId, char[] name, IntByReference cchName, char[] type,
                                  IntByReference cchType, int dwMilliseconds) {
        lock.lock();
        try {
            ChangePort p = get(hChange, ChangePort.class);
            if (p == null || !p.v2) {
                return ERROR_INVALID_HANDLE;
            }
            if (!awaitEvent(p, dwMilliseconds)) {
                return p.closed ? ERROR_INVALID_HANDLE : WAIT_TIMEOUT;
            }
            Event e = p.queue.peek();
            byte[] payload = new byte[0];
            int rc = ERROR_SUCCESS;
            for (int r : new int[]{
                    cbBuffer == null ? 0 : putBytes(payload, buffer, cbBuffer),
                    cchObjectId == null ? 0 : putString(e.objectId, objectId, cchObjectId),
                    cchParentId == null ? 0 : putString(e.parentId, parentId, cchParentId),
                    cchName == null ? 0 : putString(e.name, name, cchName),
                    cchType == null ? 0 : putString(e.type, type, cchType)}) {
                if (r != ERROR_SUCCESS) {
                    rc = r;
                }
            }
            if (rc != ERROR_SUCCESS) {
                return rc;
            }
            p.queue.poll();
            lpdwNotifyKey.setValue(new BaseTSD.ULONG_PTR(e.key));
            if (ft != null) {
                ft.dwObjectType = e.objectType;
                ft.FilterFlags = e.flags;
                ft.write();
            }
            return ERROR_SUCCESS;
        } finally {
            lock.unlock();
        }
    }

    /** The fake's WaitForSingleObject on an event handle from GetNotifyEventHandle (signalled while events are queued). */
    int waitForSingleObject(WinNT.HANDLE h, int millis) {
        return waitForAny(new WinNT.HANDLE[]{h}, millis);
    }

    /**
     * The fake's WaitForMultipleObjects (bWaitAll = FALSE) on event handles from GetNotifyEventHandle
     * and the waiter's createEvent: WAIT_OBJECT_0 + the lowest index of a signalled one, WAIT_TIMEOUT
     * after {@code millis} (0xFFFFFFFF = INFINITE), WAIT_FAILED (-1) for a handle that is not (or no
     * longer) an open event.
     */
    int waitForAny(WinNT.HANDLE[] hs, int millis) {
        lock.lock();
        try {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis & 0xFFFFFFFFL);
            while (true) {
                for (int i = 0; i < hs.length; i++) {
                    Object o = get(hs[i], Object.class);
                    if (o instanceof EventH e) {
                        if (!e.port.queue.isEmpty()) {
                            return EventWaiter.WAIT_OBJECT_0 + i;
                        }
                    } else if (o instanceof ManualEvent m) {
                        if (m.set) {
                            return EventWaiter.WAIT_OBJECT_0 + i;
                        }
                    } else {
                        return -1; // WAIT_FAILED
                    }
                }
                int w = awaitChange(deadline, millis);
                if (w != EventWaiter.WAIT_OBJECT_0) {
                    return w;
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** Queues an event on every port with a matching filter (once per port). Called with the lock held. */
    private void post(int objectType, long v2Flags, int v1Flag, Object target, String name, String id, String parentId, String type) {
        for (ChangePort p : changePorts) {
            for (Filter f : p.filters) {
                boolean targetOk = f.target == null || f.target == target;
                if (p.v2 && f.objectType == objectType && (f.flags & v2Flags) != 0 && targetOk) {
                    p.queue.add(new Event(f.key, objectType, f.flags & v2Flags, id, parentId, name, type));
                    break;
                }
                if (!p.v2 && (f.flags & (v1Flag & 0xFFFFFFFFL)) != 0 && targetOk) {
                    p.queue.add(new Event(f.key, objectType, v1Flag, id, parentId, name, type));
                    break;
                }
            }
        }
        changed.signalAll();
    }

    /** V1 registry events for keys registered with RegisterClusterNotify (SUBTREE extends to descendants). */
    private void registryEvent(FKey changedKey, int v1Flags) {
        for (ChangePort p : changePorts) {
            for (Filter f : p.filters) {
                if (p.v2 || !(f.target instanceof FKey watched)) {
                    continue;
                }
                String rel = relative(watched, changedKey);
                boolean inScope = rel != null && (rel.isEmpty() || (f.flags & CLUSTER_CHANGE_REGISTRY_SUBTREE) != 0);
                long hit = f.flags & v1Flags & 0xFFFFFFFFL;
                if (inScope && hit != 0) {
                    p.queue.add(new Event(f.key, CLUSTER_OBJECT_TYPE_REGISTRY, Long.lowestOneBit(hit), "", "", rel, "Registry"));
                    break;
                }
            }
        }
        changed.signalAll();
    }

    // =============================================================================================
    // 7. health faults (resutils)
    // =============================================================================================

    @Override
    public int ClusGetClusterHealthFaults(HCLUSTER hCluster, CLUSTER_HEALTH_FAULT_ARRAY objects, int flags) {
        return locked(() -> {
            if (get(hCluster, Conn.class) == null) {
                return ERROR_INVALID_HANDLE;
            }
            if (flags != 0) {
                return ERROR_INVALID_PARAMETER;
            }
            List<Memory> keep = new ArrayList<>();
            int n = faults.size();
            objects.numFaults = n;
            if (n == 0) {
                objects.faults = null;
            } else {
                CLUSTER_HEALTH_FAULT proto = new CLUSTER_HEALTH_FAULT();
                Memory block = new Memory((long) proto.size() * n);
                keep.add(block);
                int i = 0;
                for (String[] f : faults.values()) {
                    CLUSTER_HEALTH_FAULT s = new CLUSTER_HEALTH_FAULT(block.share((long) i * proto.size()));
                    s.Id = wide(f[0], keep);
                    s.ErrorType = Integer.parseInt(f[1]);
                    s.ErrorCode = Integer.parseInt(f[2]);
                    s.Description = wide(f[3], keep);
                    s.Provider = wide(f[4], keep);
                    s.Flags = Integer.parseInt(f[5]);
                    s.write();
                    i++;
                }
                objects.faults = block;
                faultArrays.put(Pointer.nativeValue(block), keep);
            }
            objects.write();
            return ERROR_SUCCESS;
        });
    }

    @Override
    public int ClusRemoveClusterHealthFault(HCLUSTER hCluster, String id, int flags) {
        return locked(() -> get(hCluster, Conn.class) == null ? ERROR_INVALID_HANDLE
                : flags != 0 ? ERROR_INVALID_PARAMETER
                : faults.remove(id) == null ? ERROR_NOT_FOUND : ERROR_SUCCESS);
    }

    @Override
    public int ClusAddClusterHealthFault(HCLUSTER hCluster, CLUSTER_HEALTH_FAULT failure, int flags) {
        return locked(() -> {
            if (get(hCluster, Conn.class) == null) {
                return ERROR_INVALID_HANDLE;
            }
            String id = Utf16.fromNative(failure.Id);
            if (id == null || id.isEmpty()) {
                return ERROR_INVALID_PARAMETER;
            }
            if (faults.containsKey(id)) {
                return ERROR_ALREADY_EXISTS;
            }
            faults.put(id, new String[]{id, String.valueOf(failure.ErrorType), String.valueOf(failure.ErrorCode),
                    Utf16.fromNative(failure.Description), Utf16.fromNative(failure.Provider), String.valueOf(failure.Flags)});
            return ERROR_SUCCESS;
        });
    }

    @Override
    public int InitializeClusterHealthFault(CLUSTER_HEALTH_FAULT f) {
        f.Id = null;
        f.Description = null;
        f.Provider = null;
        f.ErrorType = 0;
        f.ErrorCode = 0;
        f.Flags = 0;
        f.Reserved = 0;
        f.write();
        return ERROR_SUCCESS;
    }

    @Override
    public int InitializeClusterHealthFaultArray(CLUSTER_HEALTH_FAULT_ARRAY a) {
        a.numFaults = 0;
        a.faults = null;
        a.write();
        return ERROR_SUCCESS;
    }

    @Override
    public int FreeClusterHealthFault(CLUSTER_HEALTH_FAULT f) {
        return InitializeClusterHealthFault(f);
    }

    @Override
    public int FreeClusterHealthFaultArray(CLUSTER_HEALTH_FAULT_ARRAY a) {
        return locked(() -> {
            if (a.faults != null && faultArrays.remove(Pointer.nativeValue(a.faults)) == null) {
                return ERROR_INVALID_PARAMETER;
            }
            return InitializeClusterHealthFaultArray(a);
        });
    }
}
