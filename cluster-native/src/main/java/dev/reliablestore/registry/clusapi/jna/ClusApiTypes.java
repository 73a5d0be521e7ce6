package dev.reliablestore.registry.clusapi.jna;

import com.sun.jna.Pointer;
import com.sun.jna.Structure;
import com.sun.jna.platform.win32.WinNT;

/**
 * Handle types, structures and constants of {@code ClusApi.h} / {@code Resapi.h}, with the values of
 * the Windows SDK header. Structures use Java types whose native size is the same on Windows x86
 * and x64 except for pointers ({@code int} = DWORD, {@code long} = LONGLONG, {@code short} = WORD,
 * {@code char} = WCHAR, {@link Pointer} = any pointer); their layouts are checked against the
 * reference offsets by {@code StructureLayoutTest}.
 */
public interface ClusApiTypes {

    // ---- handles: every HXXX is "struct _HXXX *", pointer-sized ----------------------------------

    /** A connection to a cluster ({@code HCLUSTER}); close with {@code CloseCluster}. */
    class HCLUSTER extends WinNT.HANDLE {
        public HCLUSTER() {
        }

        public HCLUSTER(Pointer p) {
            super(p);
        }
    }

    /** A node ({@code HNODE}); close with {@code CloseClusterNode}. */
    class HNODE extends WinNT.HANDLE {
        public HNODE() {
        }

        public HNODE(Pointer p) {
            super(p);
        }
    }

    /** A group ({@code HGROUP}); close with {@code CloseClusterGroup}. */
    class HGROUP extends WinNT.HANDLE {
        public HGROUP() {
        }

        public HGROUP(Pointer p) {
            super(p);
        }
    }

    /** A resource ({@code HRESOURCE}); close with {@code CloseClusterResource}. */
    class HRESOURCE extends WinNT.HANDLE {
        public HRESOURCE() {
        }

        public HRESOURCE(Pointer p) {
            super(p);
        }
    }

    /** A network ({@code HNETWORK}); close with {@code CloseClusterNetwork}. */
    class HNETWORK extends WinNT.HANDLE {
        public HNETWORK() {
        }

        public HNETWORK(Pointer p) {
            super(p);
        }
    }

    /** A network interface ({@code HNETINTERFACE}); close with {@code CloseClusterNetInterface}. */
    class HNETINTERFACE extends WinNT.HANDLE {
        public HNETINTERFACE() {
        }

        public HNETINTERFACE(Pointer p) {
            super(p);
        }
    }

    /** A notification port ({@code HCHANGE}); close with {@code CloseClusterNotifyPort}. */
    class HCHANGE extends WinNT.HANDLE {
        public HCHANGE() {
        }

        public HCHANGE(Pointer p) {
            super(p);
        }
    }

    /** A cluster enumeration ({@code HCLUSENUM}); close with {@code ClusterCloseEnum}. */
    class HCLUSENUM extends WinNT.HANDLE {
        public HCLUSENUM() {
        }

        public HCLUSENUM(Pointer p) {
            super(p);
        }
    }

    /** A node enumeration ({@code HNODEENUM}); close with {@code ClusterNodeCloseEnum}. */
    class HNODEENUM extends WinNT.HANDLE {
        public HNODEENUM() {
        }

        public HNODEENUM(Pointer p) {
            super(p);
        }
    }

    /** A group enumeration ({@code HGROUPENUM}); close with {@code ClusterGroupCloseEnum}. */
    class HGROUPENUM extends WinNT.HANDLE {
        public HGROUPENUM() {
        }

        public HGROUPENUM(Pointer p) {
            super(p);
        }
    }

    /** A resource enumeration ({@code HRESENUM}); close with {@code ClusterResourceCloseEnum}. */
    class HRESENUM extends WinNT.HANDLE {
        public HRESENUM() {
        }

        public HRESENUM(Pointer p) {
            super(p);
        }
    }

    /** A network enumeration ({@code HNETWORKENUM}); close with {@code ClusterNetworkCloseEnum}. */
    class HNETWORKENUM extends WinNT.HANDLE {
        public HNETWORKENUM() {
        }

        public HNETWORKENUM(Pointer p) {
            super(p);
        }
    }

    /** A write batch ({@code HREGBATCH}); ended by {@code ClusterRegCloseBatch(Ex)}. */
    class HREGBATCH extends WinNT.HANDLE {
        public HREGBATCH() {
        }

        public HREGBATCH(Pointer p) {
            super(p);
        }
    }

    /** A read batch ({@code HREGREADBATCH}); ended by {@code ClusterRegCloseReadBatch(Ex)}. */
    class HREGREADBATCH extends WinNT.HANDLE {
        public HREGREADBATCH() {
        }

        public HREGREADBATCH(Pointer p) {
            super(p);
        }
    }

    /** The reply of a read batch ({@code HREGREADBATCHREPLY}); close with {@code ClusterRegCloseReadBatchReply}. */
    class HREGREADBATCHREPLY extends WinNT.HANDLE {
        public HREGREADBATCHREPLY() {
        }

        public HREGREADBATCHREPLY(Pointer p) {
            super(p);
        }
    }

    /** A batch notification port ({@code HREGBATCHPORT}); close with {@code ClusterRegCloseBatchNotifyPort}. */
    class HREGBATCHPORT extends WinNT.HANDLE {
        public HREGBATCHPORT() {
        }

        public HREGBATCHPORT(Pointer p) {
            super(p);
        }
    }

    /** One batch notification ({@code HREGBATCHNOTIFICATION}); close with {@code ClusterRegBatchCloseNotification}. */
    class HREGBATCHNOTIFICATION extends WinNT.HANDLE {
        public HREGBATCHNOTIFICATION() {
        }

        public HREGBATCHNOTIFICATION(Pointer p) {
            super(p);
        }
    }

    /** {@code INVALID_HANDLE_VALUE} as an {@link HCHANGE}: "create a new port". */
    static HCHANGE invalidHChange() {
        return new HCHANGE(Pointer.createConstant(-1L));
    }

    /** {@code INVALID_HANDLE_VALUE} as an {@link HCLUSTER}: a V2 port not tied to a cluster. */
    static HCLUSTER invalidHCluster() {
        return new HCLUSTER(Pointer.createConstant(-1L));
    }

    // ---- structures ----------------------------------------------------------------------------

    /** {@code CLUSTERVERSIONINFO}: 284 bytes on x86 and x64. Set {@code dwVersionInfoSize} before the call. */
    @Structure.FieldOrder({"dwVersionInfoSize", "MajorVersion", "MinorVersion", "BuildNumber", "szVendorId",
            "szCSDVersion", "dwClusterHighestVersion", "dwClusterLowestVersion", "dwFlags", "dwReserved"})
    class CLUSTERVERSIONINFO extends Structure {
        public static final int SIZE = 284;
        public int dwVersionInfoSize;
        public short MajorVersion;
        public short MinorVersion;
        public short BuildNumber;
        public char[] szVendorId = new char[64];
        public char[] szCSDVersion = new char[64];
        public int dwClusterHighestVersion;
        public int dwClusterLowestVersion;
        public int dwFlags;
        public int dwReserved;

        public CLUSTERVERSIONINFO() {
        }

        public CLUSTERVERSIONINFO(Pointer p) {
            super(p);
        }
    }

    /** {@code CLUSTER_BATCH_COMMAND}: one command of a batch notification. Pointers live until the notification is closed. */
    @Structure.FieldOrder({"Command", "dwOptions", "wzName", "lpData", "cbData"})
    class CLUSTER_BATCH_COMMAND extends Structure {
        public int Command;
        public int dwOptions;
        public Pointer wzName;
        public Pointer lpData;
        public int cbData;

        public CLUSTER_BATCH_COMMAND() {
        }

        public CLUSTER_BATCH_COMMAND(Pointer p) {
            super(p);
        }
    }

    /** {@code CLUSTER_READ_BATCH_COMMAND}: one result of a read batch. Pointers live until the reply is closed. */
    @Structure.FieldOrder({"Command", "dwOptions", "wzSubkeyName", "wzValueName", "lpData", "cbData"})
    class CLUSTER_READ_BATCH_COMMAND extends Structure {
        public int Command;
        public int dwOptions;
        public Pointer wzSubkeyName;
        public Pointer wzValueName;
        public Pointer lpData;
        public int cbData;

        public CLUSTER_READ_BATCH_COMMAND() {
        }

        public CLUSTER_READ_BATCH_COMMAND(Pointer p) {
            super(p);
        }
    }

    /** {@code NOTIFY_FILTER_AND_TYPE}: 16 bytes (4 bytes of padding after the DWORD) on x86 and x64. */
    @Structure.FieldOrder({"dwObjectType", "FilterFlags"})
    class NOTIFY_FILTER_AND_TYPE extends Structure {
        public int dwObjectType;
        public long FilterFlags;

        public NOTIFY_FILTER_AND_TYPE() {
        }

        public NOTIFY_FILTER_AND_TYPE(Pointer p) {
            super(p);
        }

        public NOTIFY_FILTER_AND_TYPE(int objectType, long filterFlags) {
            this.dwObjectType = objectType;
            this.FilterFlags = filterFlags;
        }

        /** For {@code RegisterClusterNotifyV2}, which takes the structure by value. */
        public static class ByValue extends NOTIFY_FILTER_AND_TYPE implements Structure.ByValue {
            public ByValue() {
            }

            public ByValue(int objectType, long filterFlags) {
                super(objectType, filterFlags);
            }
        }
    }

    /** {@code CLUSTER_HEALTH_FAULT} (Resapi.h): 40 bytes on x64, 28 on x86. */
    @Structure.FieldOrder({"Id", "ErrorType", "ErrorCode", "Description", "Provider", "Flags", "Reserved"})
    class CLUSTER_HEALTH_FAULT extends Structure {
        public Pointer Id;
        public int ErrorType;
        public int ErrorCode;
        public Pointer Description;
        public Pointer Provider;
        public int Flags;
        public int Reserved;

        public CLUSTER_HEALTH_FAULT() {
        }

        public CLUSTER_HEALTH_FAULT(Pointer p) {
            super(p);
        }
    }

    /** {@code CLUSTER_HEALTH_FAULT_ARRAY} (Resapi.h): 16 bytes on x64, 8 on x86; {@code faults} points to a contiguous array. */
    @Structure.FieldOrder({"numFaults", "faults"})
    class CLUSTER_HEALTH_FAULT_ARRAY extends Structure {
        public int numFaults;
        public Pointer faults;

        public CLUSTER_HEALTH_FAULT_ARRAY() {
        }

        public CLUSTER_HEALTH_FAULT_ARRAY(Pointer p) {
            super(p);
        }
    }

    // ---- version gates and versions ------------------------------------------------------------

    int CLUSAPI_VERSION_SERVER2008 = 0x600;
    int CLUSAPI_VERSION_SERVER2008R2 = 0x700;
    int CLUSAPI_VERSION_WINDOWS8 = 0x701;
    int CLUSAPI_VERSION_WINDOWSBLUE = 0x702;
    int CLUSAPI_VERSION_WINTHRESHOLD = 0x703;
    int CLUSAPI_VERSION_RS3 = 0xA00;
    int CLUSAPI_VERSION_NI = 0xA0C;
    int CLUSAPI_VERSION_CU = 0xC03;
    int CLUSAPI_VERSION_ZN = 0xC04;
    int CLUSAPI_VERSION_GA = 0xC05;

    int NT4_MAJOR_VERSION = 1;
    int NT4SP4_MAJOR_VERSION = 2;
    int NT5_MAJOR_VERSION = 3;
    int NT51_MAJOR_VERSION = 4;
    int NT6_MAJOR_VERSION = 5;
    int NT7_MAJOR_VERSION = 6;
    int NT8_MAJOR_VERSION = 7;
    int NT9_MAJOR_VERSION = 8;
    int NT10_MAJOR_VERSION = 9;
    int NT11_MAJOR_VERSION = 10;
    int NT12_MAJOR_VERSION = 11;
    int NT13_MAJOR_VERSION = 12;
    int WS2016_RTM_UPGRADE_VERSION = 8;
    int CLUSTER_VERSION_FLAG_MIXED_MODE = 1;

    /** {@code CLUSTER_MAKE_VERSION(major, minor)}. */
    static int clusterMakeVersion(int major, int minor) {
        return (major << 16) | minor;
    }

    int MAX_CLUSTERNAME_LENGTH = 63;

    // ---- access rights (OpenClusterEx and friends) -------------------------------------------

    int CLUSAPI_READ_ACCESS = 0x1;
    int CLUSAPI_CHANGE_ACCESS = 0x2;
    int CLUSAPI_NO_ACCESS = 0x4;
    int CLUSAPI_ALL_ACCESS = 0x3;
    int GENERIC_READ = 0x80000000;
    int GENERIC_WRITE = 0x40000000;
    int GENERIC_EXECUTE = 0x20000000;
    int GENERIC_ALL = 0x10000000;
    int MAXIMUM_ALLOWED = 0x02000000;

    // ---- NODE_CLUSTER_STATE (GetNodeClusterState) --------------------------------------------

    int CLUSTER_INSTALLED = 0x1;
    int CLUSTER_CONFIGURED = 0x2;
    int CLUSTER_RUNNING = 0x10;
    int ClusterStateNotInstalled = 0;
    int ClusterStateNotConfigured = 1;
    int ClusterStateNotRunning = 3;
    int ClusterStateRunning = 0x13;

    // ---- registry ------------------------------------------------------------------------------

    int REG_NONE = 0;
    int REG_SZ = 1;
    int REG_EXPAND_SZ = 2;
    int REG_BINARY = 3;
    int REG_DWORD = 4;
    int REG_DWORD_BIG_ENDIAN = 5;
    /** winnt.h: REG_LINK is 6 and REG_MULTI_SZ is 7 (the reference's table lists 6; winnt.h and jna-platform say 7). */
    int REG_LINK = 6;
    int REG_MULTI_SZ = 7;
    int REG_QWORD = 11;

    int REG_OPTION_NON_VOLATILE = 0;
    int REG_CREATED_NEW_KEY = 1;
    int REG_OPENED_EXISTING_KEY = 2;
    int KEY_READ = 0x20019;
    int KEY_WRITE = 0x20006;
    int KEY_ALL_ACCESS = 0xF003F;

    int OWNER_SECURITY_INFORMATION = 0x1;
    int GROUP_SECURITY_INFORMATION = 0x2;
    int DACL_SECURITY_INFORMATION = 0x4;
    int SACL_SECURITY_INFORMATION = 0x8;

    // ---- CLUSTER_REG_COMMAND -------------------------------------------------------------------

    int CLUSREG_COMMAND_NONE = 0;
    int CLUSREG_SET_VALUE = 1;
    int CLUSREG_CREATE_KEY = 2;
    int CLUSREG_DELETE_KEY = 3;
    int CLUSREG_DELETE_VALUE = 4;
    int CLUSREG_SET_KEY_SECURITY = 5;
    int CLUSREG_VALUE_DELETED = 6;
    int CLUSREG_READ_KEY = 7;
    int CLUSREG_READ_VALUE = 8;
    int CLUSREG_READ_ERROR = 9;
    int CLUSREG_CONTROL_COMMAND = 10;
    int CLUSREG_CONDITION_EXISTS = 11;
    int CLUSREG_CONDITION_NOT_EXISTS = 12;
    int CLUSREG_CONDITION_IS_EQUAL = 13;
    int CLUSREG_CONDITION_IS_NOT_EQUAL = 14;
    int CLUSREG_CONDITION_IS_GREATER_THAN = 15;
    int CLUSREG_CONDITION_IS_LESS_THAN = 16;
    int CLUSREG_CONDITION_KEY_EXISTS = 17;
    int CLUSREG_CONDITION_KEY_NOT_EXISTS = 18;
    int CLUSREG_LAST_COMMAND = 19;

    /** ClusterRegCloseBatchEx / CloseReadBatchEx flags (header); their batch-level meaning is unverified. */
    int CLUSREG_DATABASE_SYNC_WRITE_TO_ALL_NODES = 1;
    int CLUSREG_DATABASE_ISOLATE_READ = 2;

    // ---- CLUSTER_OBJECT_TYPE and notification versions ----------------------------------------

    int CLUSTER_OBJECT_TYPE_NONE = 0;
    int CLUSTER_OBJECT_TYPE_CLUSTER = 1;
    int CLUSTER_OBJECT_TYPE_GROUP = 2;
    int CLUSTER_OBJECT_TYPE_RESOURCE = 3;
    int CLUSTER_OBJECT_TYPE_RESOURCE_TYPE = 4;
    int CLUSTER_OBJECT_TYPE_NETWORK_INTERFACE = 5;
    int CLUSTER_OBJECT_TYPE_NETWORK = 6;
    int CLUSTER_OBJECT_TYPE_NODE = 7;
    int CLUSTER_OBJECT_TYPE_REGISTRY = 8;
    int CLUSTER_OBJECT_TYPE_QUORUM = 9;
    int CLUSTER_OBJECT_TYPE_SHARED_VOLUME = 0x0A;
    int CLUSTER_OBJECT_TYPE_GROUPSET = 0x0D;
    int CLUSTER_OBJECT_TYPE_AFFINITYRULE = 0x10;
    int CLUSTER_OBJECT_TYPE_FAULTDOMAIN = 0x11;

    int CLUSTER_NOTIFICATIONS_V1 = 1;
    int CLUSTER_NOTIFICATIONS_V2 = 2;

    // ---- V2 filter flags -----------------------------------------------------------------------

    long CLUSTER_CHANGE_CLUSTER_RECONNECT_V2 = 0x1;
    long CLUSTER_CHANGE_CLUSTER_STATE_V2 = 0x2;
    long CLUSTER_CHANGE_CLUSTER_GROUP_ADDED_V2 = 0x4;
    long CLUSTER_CHANGE_CLUSTER_HANDLE_CLOSE_V2 = 0x8;
    long CLUSTER_CHANGE_CLUSTER_NETWORK_ADDED_V2 = 0x10;
    long CLUSTER_CHANGE_CLUSTER_NODE_ADDED_V2 = 0x20;
    long CLUSTER_CHANGE_CLUSTER_RESOURCE_TYPE_ADDED_V2 = 0x40;
    long CLUSTER_CHANGE_CLUSTER_COMMON_PROPERTY_V2 = 0x80;
    long CLUSTER_CHANGE_CLUSTER_PRIVATE_PROPERTY_V2 = 0x100;
    long CLUSTER_CHANGE_CLUSTER_LOST_NOTIFICATIONS_V2 = 0x200;
    long CLUSTER_CHANGE_CLUSTER_RENAME_V2 = 0x400;
    long CLUSTER_CHANGE_CLUSTER_MEMBERSHIP_V2 = 0x800;
    long CLUSTER_CHANGE_CLUSTER_UPGRADED_V2 = 0x1000;
    long CLUSTER_CHANGE_CLUSTER_ALL_V2 = 0x1FFF;

    long CLUSTER_CHANGE_NODE_NETINTERFACE_ADDED_V2 = 0x1;
    long CLUSTER_CHANGE_NODE_DELETED_V2 = 0x2;
    long CLUSTER_CHANGE_NODE_COMMON_PROPERTY_V2 = 0x4;
    long CLUSTER_CHANGE_NODE_PRIVATE_PROPERTY_V2 = 0x8;
    long CLUSTER_CHANGE_NODE_STATE_V2 = 0x10;
    long CLUSTER_CHANGE_NODE_GROUP_GAINED_V2 = 0x20;
    long CLUSTER_CHANGE_NODE_GROUP_LOST_V2 = 0x40;
    long CLUSTER_CHANGE_NODE_HANDLE_CLOSE_V2 = 0x80;
    long CLUSTER_CHANGE_NODE_ALL_V2 = 0xFF;

    long CLUSTER_CHANGE_GROUP_DELETED_V2 = 0x1;
    long CLUSTER_CHANGE_GROUP_COMMON_PROPERTY_V2 = 0x2;
    long CLUSTER_CHANGE_GROUP_PRIVATE_PROPERTY_V2 = 0x4;
    long CLUSTER_CHANGE_GROUP_STATE_V2 = 0x8;
    long CLUSTER_CHANGE_GROUP_OWNER_NODE_V2 = 0x10;
    long CLUSTER_CHANGE_GROUP_PREFERRED_OWNERS_V2 = 0x20;
    long CLUSTER_CHANGE_GROUP_RESOURCE_ADDED_V2 = 0x40;
    long CLUSTER_CHANGE_GROUP_RESOURCE_GAINED_V2 = 0x80;
    long CLUSTER_CHANGE_GROUP_RESOURCE_LOST_V2 = 0x100;
    long CLUSTER_CHANGE_GROUP_HANDLE_CLOSE_V2 = 0x200;
    long CLUSTER_CHANGE_GROUP_ALL_V2 = 0x3FF;

    long CLUSTER_CHANGE_RESOURCE_COMMON_PROPERTY_V2 = 0x1;
    long CLUSTER_CHANGE_RESOURCE_PRIVATE_PROPERTY_V2 = 0x2;
    long CLUSTER_CHANGE_RESOURCE_STATE_V2 = 0x4;
    long CLUSTER_CHANGE_RESOURCE_OWNER_GROUP_V2 = 0x8;
    long CLUSTER_CHANGE_RESOURCE_DEPENDENCIES_V2 = 0x10;
    long CLUSTER_CHANGE_RESOURCE_DEPENDENTS_V2 = 0x20;
    long CLUSTER_CHANGE_RESOURCE_POSSIBLE_OWNERS_V2 = 0x40;
    long CLUSTER_CHANGE_RESOURCE_DELETED_V2 = 0x80;
    long CLUSTER_CHANGE_RESOURCE_DLL_UPGRADED_V2 = 0x100;
    long CLUSTER_CHANGE_RESOURCE_HANDLE_CLOSE_V2 = 0x200;
    long CLUSTER_CHANGE_RESOURCE_TERMINAL_STATE_V2 = 0x400;
    long CLUSTER_CHANGE_RESOURCE_ALL_V2 = 0x7FF;

    long CLUSTER_CHANGE_REGISTRY_ATTRIBUTES_V2 = 0x1;
    long CLUSTER_CHANGE_REGISTRY_NAME_V2 = 0x2;
    long CLUSTER_CHANGE_REGISTRY_SUBTREE_V2 = 0x4;
    long CLUSTER_CHANGE_REGISTRY_VALUE_V2 = 0x8;
    long CLUSTER_CHANGE_REGISTRY_HANDLE_CLOSE_V2 = 0x10;
    long CLUSTER_CHANGE_REGISTRY_ALL_V2 = 0x1F;

    long CLUSTER_CHANGE_QUORUM_STATE_V2 = 0x1;

    long CLUSTER_CHANGE_RESOURCE_TYPE_DELETED_V2 = 0x1;
    long CLUSTER_CHANGE_RESOURCE_TYPE_COMMON_PROPERTY_V2 = 0x2;
    long CLUSTER_CHANGE_RESOURCE_TYPE_PRIVATE_PROPERTY_V2 = 0x4;
    long CLUSTER_CHANGE_RESOURCE_TYPE_POSSIBLE_OWNERS_V2 = 0x8;
    long CLUSTER_CHANGE_RESOURCE_TYPE_DLL_UPGRADED_V2 = 0x10;
    long CLUSTER_RESOURCE_TYPE_SPECIFIC_V2 = 0x20;

    long CLUSTER_CHANGE_NETINTERFACE_DELETED_V2 = 0x1;
    long CLUSTER_CHANGE_NETINTERFACE_COMMON_PROPERTY_V2 = 0x2;
    long CLUSTER_CHANGE_NETINTERFACE_PRIVATE_PROPERTY_V2 = 0x4;
    long CLUSTER_CHANGE_NETINTERFACE_STATE_V2 = 0x8;
    long CLUSTER_CHANGE_NETINTERFACE_HANDLE_CLOSE_V2 = 0x10;

    long CLUSTER_CHANGE_NETWORK_DELETED_V2 = 0x1;
    long CLUSTER_CHANGE_NETWORK_COMMON_PROPERTY_V2 = 0x2;
    long CLUSTER_CHANGE_NETWORK_PRIVATE_PROPERTY_V2 = 0x4;
    long CLUSTER_CHANGE_NETWORK_STATE_V2 = 0x8;
    long CLUSTER_CHANGE_NETWORK_HANDLE_CLOSE_V2 = 0x10;

    long CLUSTER_CHANGE_SHARED_VOLUME_STATE_V2 = 0x1;
    long CLUSTER_CHANGE_SHARED_VOLUME_ADDED_V2 = 0x2;
    long CLUSTER_CHANGE_SHARED_VOLUME_REMOVED_V2 = 0x4;

    // ---- V1 CLUSTER_CHANGE ---------------------------------------------------------------------

    int CLUSTER_CHANGE_NODE_STATE = 0x1;
    int CLUSTER_CHANGE_NODE_DELETED = 0x2;
    int CLUSTER_CHANGE_NODE_ADDED = 0x4;
    int CLUSTER_CHANGE_NODE_PROPERTY = 0x8;
    int CLUSTER_CHANGE_REGISTRY_NAME = 0x10;
    int CLUSTER_CHANGE_REGISTRY_ATTRIBUTES = 0x20;
    int CLUSTER_CHANGE_REGISTRY_VALUE = 0x40;
    int CLUSTER_CHANGE_REGISTRY_SUBTREE = 0x80;
    int CLUSTER_CHANGE_RESOURCE_STATE = 0x100;
    int CLUSTER_CHANGE_RESOURCE_DELETED = 0x200;
    int CLUSTER_CHANGE_RESOURCE_ADDED = 0x400;
    int CLUSTER_CHANGE_RESOURCE_PROPERTY = 0x800;
    int CLUSTER_CHANGE_GROUP_STATE = 0x1000;
    int CLUSTER_CHANGE_GROUP_DELETED = 0x2000;
    int CLUSTER_CHANGE_GROUP_ADDED = 0x4000;
    int CLUSTER_CHANGE_GROUP_PROPERTY = 0x8000;
    int CLUSTER_CHANGE_RESOURCE_TYPE_DELETED = 0x10000;
    int CLUSTER_CHANGE_RESOURCE_TYPE_ADDED = 0x20000;
    int CLUSTER_CHANGE_RESOURCE_TYPE_PROPERTY = 0x40000;
    int CLUSTER_CHANGE_CLUSTER_RECONNECT = 0x80000;
    int CLUSTER_CHANGE_NETWORK_STATE = 0x100000;
    int CLUSTER_CHANGE_NETWORK_DELETED = 0x200000;
    int CLUSTER_CHANGE_NETWORK_ADDED = 0x400000;
    int CLUSTER_CHANGE_NETWORK_PROPERTY = 0x800000;
    int CLUSTER_CHANGE_NETINTERFACE_STATE = 0x1000000;
    int CLUSTER_CHANGE_NETINTERFACE_DELETED = 0x2000000;
    int CLUSTER_CHANGE_NETINTERFACE_ADDED = 0x4000000;
    int CLUSTER_CHANGE_NETINTERFACE_PROPERTY = 0x8000000;
    int CLUSTER_CHANGE_QUORUM_STATE = 0x10000000;
    int CLUSTER_CHANGE_CLUSTER_STATE = 0x20000000;
    int CLUSTER_CHANGE_CLUSTER_PROPERTY = 0x40000000;
    int CLUSTER_CHANGE_HANDLE_CLOSE = 0x80000000;
    /** The OR of every V1 flag above. */
    int CLUSTER_CHANGE_ALL = 0xFFFFFFFF;

    // ---- enumerations --------------------------------------------------------------------------

    int CLUSTER_ENUM_NODE = 0x1;
    int CLUSTER_ENUM_RESTYPE = 0x2;
    int CLUSTER_ENUM_RESOURCE = 0x4;
    int CLUSTER_ENUM_GROUP = 0x8;
    int CLUSTER_ENUM_NETWORK = 0x10;
    int CLUSTER_ENUM_NETINTERFACE = 0x20;
    int CLUSTER_ENUM_CAPACITY_NODE = 0x10000000;
    int CLUSTER_ENUM_SHARED_VOLUME_GROUP = 0x20000000;
    int CLUSTER_ENUM_SHARED_VOLUME_RESOURCE = 0x40000000;
    int CLUSTER_ENUM_INTERNAL_NETWORK = 0x80000000;
    int CLUSTER_ENUM_ALL = 0x3F;

    int CLUSTER_NODE_ENUM_NETINTERFACES = 0x1;
    int CLUSTER_NODE_ENUM_GROUPS = 0x2;
    int CLUSTER_NODE_ENUM_PREFERRED_GROUPS = 0x4;
    int CLUSTER_NODE_ENUM_ALL = 0x3;
    int CLUSTER_GROUP_ENUM_CONTAINS = 0x1;
    int CLUSTER_GROUP_ENUM_NODES = 0x2;
    int CLUSTER_GROUP_ENUM_ALL = 0x3;
    int CLUSTER_RESOURCE_ENUM_DEPENDS = 0x1;
    int CLUSTER_RESOURCE_ENUM_PROVIDES = 0x2;
    int CLUSTER_RESOURCE_ENUM_NODES = 0x4;
    int CLUSTER_RESOURCE_ENUM_ALL = 0x7;
    int CLUSTER_NETWORK_ENUM_NETINTERFACES = 0x1;
    int CLUSTER_NETWORK_ENUM_ALL = 0x1;

    // ---- states --------------------------------------------------------------------------------

    int ClusterNodeStateUnknown = -1;
    int ClusterNodeUp = 0;
    int ClusterNodeDown = 1;
    int ClusterNodePaused = 2;
    int ClusterNodeJoining = 3;

    int ClusterGroupStateUnknown = -1;
    int ClusterGroupOnline = 0;
    int ClusterGroupOffline = 1;
    int ClusterGroupFailed = 2;
    int ClusterGroupPartialOnline = 3;
    int ClusterGroupPending = 4;

    int ClusterResourceStateUnknown = -1;
    int ClusterResourceInherited = 0;
    int ClusterResourceInitializing = 1;
    int ClusterResourceOnline = 2;
    int ClusterResourceOffline = 3;
    int ClusterResourceFailed = 4;
    int ClusterResourcePending = 128;
    int ClusterResourceOnlinePending = 129;
    int ClusterResourceOfflinePending = 130;

    int ClusterNetworkStateUnknown = -1;
    int ClusterNetworkUnavailable = 0;
    int ClusterNetworkDown = 1;
    int ClusterNetworkPartitioned = 2;
    int ClusterNetworkUp = 3;

    int ClusterNetInterfaceStateUnknown = -1;
    int ClusterNetInterfaceUnavailable = 0;
    int ClusterNetInterfaceFailed = 1;
    int ClusterNetInterfaceUnreachable = 2;
    int ClusterNetInterfaceUp = 3;

    int DoNotFailbackGroups = 0;
    int FailbackGroupsImmediately = 1;
    int FailbackGroupsPerPolicy = 2;

    int NodeDrainStatusNotInitiated = 0;
    int NodeDrainStatusInProgress = 1;
    int NodeDrainStatusCompleted = 2;
    int NodeDrainStatusFailed = 3;
    String CLUSREG_NAME_NODE_DRAIN_STATUS = "NodeDrainStatus";

    int CLUSAPI_NODE_PAUSE_REMAIN_ON_PAUSED_NODE_ON_MOVE_ERROR = 0x1;
    int CLUSAPI_NODE_AVOID_PLACEMENT = 0x2;
    int CLUSAPI_NODE_PAUSE_RETRY_DRAIN_ON_FAILURE = 0x4;
    int CLUSAPI_NODE_RESUME_FAILBACK_STORAGE = 0x1;
    int CLUSAPI_NODE_RESUME_FAILBACK_VMS = 0x2;
    int CLUSAPI_NODE_RESUME_FAILBACK_PINNED_VMS_ONLY = 0x4;
    int CLUSAPI_NODE_RESUME_FAILBACK_VMS_FORCEFULLY = 0x8;

    int CLUSAPI_GROUP_MOVE_IGNORE_RESOURCE_STATUS = 0x1;
    int CLUSAPI_GROUP_MOVE_RETURN_TO_SOURCE_NODE_ON_ERROR = 0x2;
    int CLUSAPI_GROUP_MOVE_QUEUE_ENABLED = 0x4;
    int CLUSAPI_GROUP_MOVE_HIGH_PRIORITY_START = 0x8;
    int CLUSAPI_GROUP_MOVE_FAILBACK = 0x10;
    int CLUSAPI_GROUP_MOVE_IGNORE_AFFINITY_RULE = 0x20;

    // ---- control codes -------------------------------------------------------------------------

    int CLUS_ACCESS_ANY = 0;
    int CLUS_ACCESS_READ = 0x01;
    int CLUS_ACCESS_WRITE = 0x02;
    int CLUS_NO_MODIFY = 0;
    int CLUS_MODIFY = 0x01;
    int CLUSCTL_ACCESS_SHIFT = 0;
    int CLUSCTL_FUNCTION_SHIFT = 2;
    int CLCTL_MODIFY_SHIFT = 22;
    int CLUSCTL_OBJECT_SHIFT = 24;

    int CLUS_OBJECT_INVALID = 0;
    int CLUS_OBJECT_RESOURCE = 1;
    int CLUS_OBJECT_RESOURCE_TYPE = 2;
    int CLUS_OBJECT_GROUP = 3;
    int CLUS_OBJECT_NODE = 4;
    int CLUS_OBJECT_NETWORK = 5;
    int CLUS_OBJECT_NETINTERFACE = 6;
    int CLUS_OBJECT_CLUSTER = 7;

    /** {@code CLCTL_EXTERNAL_CODE(Function, Access, Modify)}. */
    static int clctlExternalCode(int function, int access, int modify) {
        return (access << CLUSCTL_ACCESS_SHIFT) | (function << CLUSCTL_FUNCTION_SHIFT) | (modify << CLCTL_MODIFY_SHIFT);
    }

    /** {@code CLUSCTL_<OBJECT>_CODE(Function)}. */
    static int clusctlCode(int object, int clctl) {
        return (object << CLUSCTL_OBJECT_SHIFT) | clctl;
    }

    int CLCTL_UNKNOWN = 0x0;
    int CLCTL_GET_CHARACTERISTICS = 0x5;
    int CLCTL_GET_FLAGS = 0x9;
    int CLCTL_GET_NAME = 0x29;
    int CLCTL_GET_RESOURCE_TYPE = 0x2D;
    int CLCTL_GET_NODE = 0x31;
    int CLCTL_GET_NETWORK = 0x35;
    int CLCTL_GET_ID = 0x39;
    int CLCTL_GET_FQDN = 0x3D;
    int CLCTL_ENUM_COMMON_PROPERTIES = 0x51;
    int CLCTL_GET_RO_COMMON_PROPERTIES = 0x55;
    int CLCTL_GET_COMMON_PROPERTIES = 0x59;
    int CLCTL_SET_COMMON_PROPERTIES = 0x40005E;
    int CLCTL_ENUM_PRIVATE_PROPERTIES = 0x79;
    int CLCTL_GET_RO_PRIVATE_PROPERTIES = 0x7D;
    int CLCTL_GET_PRIVATE_PROPERTIES = 0x81;
    int CLCTL_SET_PRIVATE_PROPERTIES = 0x400086;

    int CLUSCTL_RESOURCE_GET_NAME = 0x01000029;
    int CLUSCTL_RESOURCE_GET_ID = 0x01000039;
    int CLUSCTL_RESOURCE_GET_COMMON_PROPERTIES = 0x01000059;
    int CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES = 0x01000081;
    int CLUSCTL_GROUP_GET_NAME = 0x03000029;
    int CLUSCTL_GROUP_GET_ID = 0x03000039;
    int CLUSCTL_GROUP_GET_COMMON_PROPERTIES = 0x03000059;
    int CLUSCTL_NODE_GET_NAME = 0x04000029;
    int CLUSCTL_NODE_GET_ID = 0x04000039;
    int CLUSCTL_NODE_GET_COMMON_PROPERTIES = 0x04000059;
    int CLUSCTL_NETWORK_GET_NAME = 0x05000029;
    int CLUSCTL_NETWORK_GET_ID = 0x05000039;
    int CLUSCTL_NETINTERFACE_GET_NAME = 0x06000029;
    int CLUSCTL_NETINTERFACE_GET_ID = 0x06000039;
    int CLUSCTL_CLUSTER_GET_FQDN = 0x0700003D;
    int CLUSCTL_CLUSTER_GET_COMMON_PROPERTIES = 0x07000059;

    // ---- health faults (Resapi.h) --------------------------------------------------------------

    String CLUSTER_HEALTH_FAULT_PROPERTY_NAME = "ClusterHealth";
    int CLUSTER_HEALTH_FAULT_ARGS = 7;
    int CLUSTER_HEALTH_FAULT_ID = 0;
    int CLUSTER_HEALTH_FAULT_ERRORTYPE = 1;
    int CLUSTER_HEALTH_FAULT_ERRORCODE = 2;
    int CLUSTER_HEALTH_FAULT_DESCRIPTION = 3;
    int CLUSTER_HEALTH_FAULT_PROVIDER = 4;
    int CLUSTER_HEALTH_FAULT_FLAGS = 5;
    int CLUSTER_HEALTH_FAULT_RESERVED = 6;

    // ---- Win32 errors that matter here (winerror.h; 5962 and 5986 are missing from jna-platform) --

    int ERROR_SUCCESS = 0;
    int ERROR_INVALID_FUNCTION = 1;
    int ERROR_FILE_NOT_FOUND = 2;
    int ERROR_ACCESS_DENIED = 5;
    int ERROR_INVALID_HANDLE = 6;
    int ERROR_INVALID_DATA = 13;
    int ERROR_OUTOFMEMORY = 14;
    int ERROR_GEN_FAILURE = 31;
    int ERROR_SHARING_PAUSED = 70;
    int ERROR_INVALID_PARAMETER = 87;
    int ERROR_INSUFFICIENT_BUFFER = 122;
    int ERROR_ALREADY_EXISTS = 183;
    int ERROR_MORE_DATA = 234;
    int WAIT_TIMEOUT = 258;
    int ERROR_NO_MORE_ITEMS = 259;
    int ERROR_IO_PENDING = 997;
    /** A call on a key handle whose key was deleted since it was opened. */
    int ERROR_KEY_DELETED = 1018;
    int ERROR_KEY_HAS_CHILDREN = 1020;
    int ERROR_NOT_FOUND = 1168;
    int RPC_S_SERVER_UNAVAILABLE = 1722;
    int RPC_S_CALL_FAILED = 1726;
    int EPT_S_NOT_REGISTERED = 1753;
    int RPC_S_CALL_CANCELLED = 1818;
    int RPC_S_COMM_FAILURE = 1820;
    int ERROR_NODE_NOT_AVAILABLE = 5036;
    int ERROR_GROUP_NOT_FOUND = 5013;
    int ERROR_CLUSTER_NODE_NOT_FOUND = 5042;
    int ERROR_CLUSTER_NODE_DOWN = 5050;
    /** Move or drain to a node that is not Up. */
    int ERROR_HOST_NODE_NOT_AVAILABLE = 5005;
    /** Resume of a node that is not paused. */
    int ERROR_CLUSTER_NODE_NOT_PAUSED = 5058;
    /** Drain whose target is the drained node itself. */
    int ERROR_INVALID_TARGET_HANDLE = 114;
    int ERROR_CLUSTER_NODE_PAUSED = 5070;
    int ERROR_CLUSTER_NODE_NOT_READY = 5072;
    int ERROR_CLUSTER_NODE_SHUTTING_DOWN = 5073;
    int ERROR_CLUSTER_GROUP_MOVING = 5908;
    int ERROR_CLUSTER_NO_QUORUM = 5925;
    int ERROR_CLUSTER_NODE_DRAIN_IN_PROGRESS = 5962;
    int ERROR_CLUSTER_DATABASE_UPDATE_CONDITION_FAILED = 5986;
}
