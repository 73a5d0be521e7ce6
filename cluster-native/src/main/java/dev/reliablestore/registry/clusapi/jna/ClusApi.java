package dev.reliablestore.registry.clusapi.jna;

import com.sun.jna.Callback;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.platform.win32.BaseTSD;
import com.sun.jna.platform.win32.WinBase;
import com.sun.jna.platform.win32.WinNT;
import com.sun.jna.platform.win32.WinReg;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.PointerByReference;
import com.sun.jna.win32.StdCallLibrary;
import com.sun.jna.win32.W32APIOptions;

/**
 * The raw binding of {@code clusapi.dll} (Windows Failover Clustering), one Java method per export,
 * with the signatures of the Windows SDK's {@code ClusApi.h}. The API is Unicode only and has no
 * {@code A}/{@code W} pairs; every name here is the undecorated export.
 *
 * <p>Mapping rules: {@code LPCWSTR} → {@link String} (the Unicode type mapper passes it as UTF-16);
 * {@code LPWSTR} out buffers → {@code char[]} with an {@link IntByReference} count in characters (in:
 * buffer size including the NUL; out: length without it); {@code DWORD}/{@code LONG}/enums →
 * {@code int}; {@code BOOL} → {@code boolean} (32-bit); {@code DWORD_PTR} → {@link BaseTSD.DWORD_PTR};
 * {@code INT*} → {@link IntByReference} (4 bytes, never pointer-sized); output handles →
 * {@link PointerByReference}, wrapped afterwards with the typed handle's constructor.
 *
 * <p>Functions that return a handle or a state return {@code NULL} / {@code -1} on failure; the
 * error is then {@link Native#getLastError()} read straight after the call. The others return the
 * Win32 error code (0 = success).
 *
 * <p>The library is loaded on first use of {@link #instance()}, never at class initialisation, so
 * this interface can be implemented (by a test fake) and referenced on any operating system.
 */
public interface ClusApi extends StdCallLibrary, ClusApiTypes {

    /** The loaded {@code clusapi.dll}; loads it on first call (Windows only). */
    static ClusApi instance() {
        return Loader.INSTANCE;
    }

    /** Holds the singleton so that loading happens on first use only. */
    final class Loader {
        private Loader() {
        }

        static final ClusApi INSTANCE = Native.load("clusapi", ClusApi.class, W32APIOptions.UNICODE_OPTIONS);
    }

    /** The progress callback of {@code AddClusterNode} ({@code PCLUSTER_SETUP_PROGRESS_CALLBACK}). */
    interface ClusterSetupProgressCallback extends StdCallCallback {
        boolean callback(Pointer pvCallbackArg, int eSetupPhase, int ePhaseType, int ePhaseSeverity,
                         int dwPercentComplete, String lpszObjectName, int dwStatus);
    }

    // ---- 1. connection and information -------------------------------------------------------

    HCLUSTER OpenCluster(String lpszClusterName);

    HCLUSTER OpenClusterEx(String lpszClusterName, int desiredAccess, IntByReference grantedAccess);

    boolean CloseCluster(HCLUSTER hCluster);

    int GetClusterInformation(HCLUSTER hCluster, char[] lpszClusterName, IntByReference lpcchClusterName,
                              CLUSTERVERSIONINFO lpClusterInfo);

    int GetNodeClusterState(String lpszNodeName, IntByReference pdwClusterState);

    int GetClusterQuorumResource(HCLUSTER hCluster, char[] lpszResourceName, IntByReference lpcchResourceName,
                                 char[] lpszDeviceName, IntByReference lpcchDeviceName, IntByReference lpdwMaxQuorumLogSize);

    WinReg.HKEY GetClusterKey(HCLUSTER hCluster, int samDesired);

    WinReg.HKEY GetClusterGroupKey(HGROUP hGroup, int samDesired);

    WinReg.HKEY GetClusterResourceKey(HRESOURCE hResource, int samDesired);

    WinReg.HKEY GetClusterNodeKey(HNODE hNode, int samDesired);

    WinReg.HKEY GetClusterNetworkKey(HNETWORK hNetwork, int samDesired);

    WinReg.HKEY GetClusterNetInterfaceKey(HNETINTERFACE hNetInterface, int samDesired);

    int ClusterControl(HCLUSTER hCluster, HNODE hHostNode, int dwControlCode, byte[] lpInBuffer, int nInBufferSize,
                       byte[] lpOutBuffer, int nOutBufferSize, IntByReference lpBytesReturned);

    // ---- 6. enumeration --------------------------------------------------------------------------

    HCLUSENUM ClusterOpenEnum(HCLUSTER hCluster, int dwType);

    int ClusterGetEnumCount(HCLUSENUM hEnum);

    int ClusterEnum(HCLUSENUM hEnum, int dwIndex, IntByReference lpdwType, char[] lpszName, IntByReference lpcchName);

    int ClusterCloseEnum(HCLUSENUM hEnum);

    HNODEENUM ClusterNodeOpenEnum(HNODE hNode, int dwType);

    int ClusterNodeGetEnumCount(HNODEENUM hNodeEnum);

    int ClusterNodeEnum(HNODEENUM hNodeEnum, int dwIndex, IntByReference lpdwType, char[] lpszName, IntByReference lpcchName);

    int ClusterNodeCloseEnum(HNODEENUM hNodeEnum);

    HGROUPENUM ClusterGroupOpenEnum(HGROUP hGroup, int dwType);

    int ClusterGroupGetEnumCount(HGROUPENUM hGroupEnum);

    int ClusterGroupEnum(HGROUPENUM hGroupEnum, int dwIndex, IntByReference lpdwType, char[] lpszResourceName,
                         IntByReference lpcchName);

    int ClusterGroupCloseEnum(HGROUPENUM hGroupEnum);

    HRESENUM ClusterResourceOpenEnum(HRESOURCE hResource, int dwType);

    int ClusterResourceGetEnumCount(HRESENUM hResEnum);

    int ClusterResourceEnum(HRESENUM hResEnum, int dwIndex, IntByReference lpdwType, char[] lpszName,
                            IntByReference lpcchName);

    int ClusterResourceCloseEnum(HRESENUM hResEnum);

    HNETWORKENUM ClusterNetworkOpenEnum(HNETWORK hNetwork, int dwType);

    int ClusterNetworkGetEnumCount(HNETWORKENUM hNetworkEnum);

    int ClusterNetworkEnum(HNETWORKENUM hNetworkEnum, int dwIndex, IntByReference lpdwType, char[] lpszName,
                           IntByReference lpcchName);

    int ClusterNetworkCloseEnum(HNETWORKENUM hNetworkEnum);

    // ---- nodes ---------------------------------------------------------------------------------

    HNODE OpenClusterNode(HCLUSTER hCluster, String lpszNodeName);

    HNODE OpenClusterNodeEx(HCLUSTER hCluster, String lpszNodeName, int dwDesiredAccess, IntByReference lpdwGrantedAccess);

    boolean CloseClusterNode(HNODE hNode);

    /** @return a {@code CLUSTER_NODE_STATE}; {@code -1} on failure (see {@link Native#getLastError()}) */
    int GetClusterNodeState(HNODE hNode);

    /** {@code hNode == null} means the local node. */
    int GetClusterNodeId(HNODE hNode, char[] lpszNodeId, IntByReference lpcchName);

    HCLUSTER GetClusterFromNode(HNODE hNode);

    int PauseClusterNode(HNODE hNode);

    int PauseClusterNodeEx(HNODE hNode, boolean bDrainNode, int dwPauseFlags, HNODE hNodeDrainTarget);

    int ResumeClusterNode(HNODE hNode);

    int ResumeClusterNodeEx(HNODE hNode, int eResumeFailbackType, int dwResumeFlagsReserved);

    int ClusterNodeControl(HNODE hNode, HNODE hHostNode, int dwControlCode, byte[] lpInBuffer, int nInBufferSize,
                           byte[] lpOutBuffer, int nOutBufferSize, IntByReference lpBytesReturned);

    /** The new node's handle (close it with {@code CloseClusterNode}), or null with the reason in {@code GetLastError}. */
    HNODE AddClusterNode(HCLUSTER hCluster, String lpszNodeName, ClusterSetupProgressCallback pfnProgressCallback,
                         Pointer pvCallbackArg);

    // ---- groups --------------------------------------------------------------------------------

    HGROUP OpenClusterGroup(HCLUSTER hCluster, String lpszGroupName);

    HGROUP OpenClusterGroupEx(HCLUSTER hCluster, String lpszGroupName, int dwDesiredAccess, IntByReference lpdwGrantedAccess);

    boolean CloseClusterGroup(HGROUP hGroup);

    /** @return a {@code CLUSTER_GROUP_STATE}; {@code -1} on failure. The owner node's name goes to the buffer. */
    int GetClusterGroupState(HGROUP hGroup, char[] lpszNodeName, IntByReference lpcchNodeName);

    HCLUSTER GetClusterFromGroup(HGROUP hGroup);

    int MoveClusterGroup(HGROUP hGroup, HNODE hDestinationNode);

    int MoveClusterGroupEx(HGROUP hGroup, HNODE hDestinationNode, int dwMoveFlags, byte[] lpInBuffer, int cbInBufferSize);

    int CancelClusterGroupOperation(HGROUP hGroup, int dwCancelFlagsReserved);

    int OnlineClusterGroup(HGROUP hGroup, HNODE hDestinationNode);

    int OfflineClusterGroup(HGROUP hGroup);

    int ClusterGroupControl(HGROUP hGroup, HNODE hHostNode, int dwControlCode, byte[] lpInBuffer, int nInBufferSize,
                            byte[] lpOutBuffer, int nOutBufferSize, IntByReference lpBytesReturned);

    // ---- resources -----------------------------------------------------------------------------

    HRESOURCE OpenClusterResource(HCLUSTER hCluster, String lpszResourceName);

    HRESOURCE OpenClusterResourceEx(HCLUSTER hCluster, String lpszResourceName, int dwDesiredAccess,
                                    IntByReference lpdwGrantedAccess);

    boolean CloseClusterResource(HRESOURCE hResource);

    HCLUSTER GetClusterFromResource(HRESOURCE hResource);

    /** @return a {@code CLUSTER_RESOURCE_STATE}; {@code -1} on failure. Owner node and group names go to the buffers. */
    int GetClusterResourceState(HRESOURCE hResource, char[] lpszNodeName, IntByReference lpcchNodeName,
                                char[] lpszGroupName, IntByReference lpcchGroupName);

    int OnlineClusterResource(HRESOURCE hResource);

    int OfflineClusterResource(HRESOURCE hResource);

    int ClusterResourceControl(HRESOURCE hResource, HNODE hHostNode, int dwControlCode, byte[] lpInBuffer,
                               int cbInBufferSize, byte[] lpOutBuffer, int cbOutBufferSize, IntByReference lpBytesReturned);

    // ---- networks and network interfaces ------------------------------------------------------

    HNETWORK OpenClusterNetwork(HCLUSTER hCluster, String lpszNetworkName);

    HNETWORK OpenClusterNetworkEx(HCLUSTER hCluster, String lpszNetworkName, int dwDesiredAccess,
                                  IntByReference lpdwGrantedAccess);

    boolean CloseClusterNetwork(HNETWORK hNetwork);

    /** @return a {@code CLUSTER_NETWORK_STATE}; {@code -1} on failure. */
    int GetClusterNetworkState(HNETWORK hNetwork);

    int ClusterNetworkControl(HNETWORK hNetwork, HNODE hHostNode, int dwControlCode, byte[] lpInBuffer, int nInBufferSize,
                              byte[] lpOutBuffer, int nOutBufferSize, IntByReference lpBytesReturned);

    HNETINTERFACE OpenClusterNetInterface(HCLUSTER hCluster, String lpszInterfaceName);

    boolean CloseClusterNetInterface(HNETINTERFACE hNetInterface);

    /** @return a {@code CLUSTER_NETINTERFACE_STATE}; {@code -1} on failure. */
    int GetClusterNetInterfaceState(HNETINTERFACE hNetInterface);

    int GetClusterNetInterface(HCLUSTER hCluster, String lpszNodeName, String lpszNetworkName, char[] lpszInterfaceName,
                               IntByReference lpcchInterfaceName);

    int ClusterNetInterfaceControl(HNETINTERFACE hNetInterface, HNODE hHostNode, int dwControlCode, byte[] lpInBuffer,
                                   int nInBufferSize, byte[] lpOutBuffer, int nOutBufferSize, IntByReference lpBytesReturned);

    // ---- 2. cluster registry ------------------------------------------------------------------

    int ClusterRegOpenKey(WinReg.HKEY hKey, String lpszSubKey, int samDesired, WinReg.HKEYByReference phkResult);

    /** {@code lpSecurityAttributes} is ignored by the API; pass {@code null}. */
    int ClusterRegCreateKey(WinReg.HKEY hKey, String lpszSubKey, int dwOptions, int samDesired,
                            WinBase.SECURITY_ATTRIBUTES lpSecurityAttributes, WinReg.HKEYByReference phkResult,
                            IntByReference lpdwDisposition);

    /** Windows builds with {@code CLUSAPI_VERSION_NI} and later only. */
    int ClusterRegCreateKeyEx(WinReg.HKEY hKey, String lpSubKey, int dwOptions, int samDesired,
                              WinBase.SECURITY_ATTRIBUTES lpSecurityAttributes, WinReg.HKEYByReference phkResult,
                              IntByReference lpdwDisposition, String lpszReason);

    int ClusterRegCloseKey(WinReg.HKEY hKey);

    /** Fails on a key that has subkeys (use a batch's {@code CLUSREG_DELETE_KEY} to delete a tree). */
    int ClusterRegDeleteKey(WinReg.HKEY hKey, String lpszSubKey);

    int ClusterRegDeleteKeyEx(WinReg.HKEY hKey, String lpSubKey, String lpszReason);

    int ClusterRegEnumKey(WinReg.HKEY hKey, int dwIndex, char[] lpszName, IntByReference lpcchName,
                          WinBase.FILETIME lpftLastWriteTime);

    int ClusterRegEnumValue(WinReg.HKEY hKey, int dwIndex, char[] lpszValueName, IntByReference lpcchValueName,
                            IntByReference lpdwType, byte[] lpData, IntByReference lpcbData);

    int ClusterRegQueryInfoKey(WinReg.HKEY hKey, IntByReference lpcSubKeys, IntByReference lpcchMaxSubKeyLen,
                               IntByReference lpcValues, IntByReference lpcchMaxValueNameLen, IntByReference lpcbMaxValueLen,
                               IntByReference lpcbSecurityDescriptor, WinBase.FILETIME lpftLastWriteTime);

    int ClusterRegSetValue(WinReg.HKEY hKey, String lpszValueName, int dwType, byte[] lpData, int cbData);

    int ClusterRegSetValueEx(WinReg.HKEY hKey, String lpszValueName, int dwType, byte[] lpData, int cbData,
                             String lpszReason);

    /** {@code lpData == null} asks for the size only ({@code *lpcbData}). Missing value: {@code ERROR_FILE_NOT_FOUND}. */
    int ClusterRegQueryValue(WinReg.HKEY hKey, String lpszValueName, IntByReference lpdwValueType, byte[] lpData,
                             IntByReference lpcbData);

    int ClusterRegDeleteValue(WinReg.HKEY hKey, String lpszValueName);

    int ClusterRegDeleteValueEx(WinReg.HKEY hKey, String lpszValueName, String lpszReason);

    int ClusterRegGetKeySecurity(WinReg.HKEY hKey, int requestedInformation, byte[] pSecurityDescriptor,
                                 IntByReference lpcbSecurityDescriptor);

    int ClusterRegSetKeySecurity(WinReg.HKEY hKey, int securityInformation, byte[] pSecurityDescriptor);

    int ClusterRegSetKeySecurityEx(WinReg.HKEY hKey, int securityInformation, byte[] pSecurityDescriptor,
                                   String lpszReason);

    int ClusterRegSyncDatabase(HCLUSTER hCluster, int flags);

    // ---- 3.1 write batches ---------------------------------------------------------------------

    int ClusterRegCreateBatch(WinReg.HKEY hKey, PointerByReference pHREGBATCH);

    int ClusterRegBatchAddCommand(HREGBATCH hRegBatch, int dwCommand, String wzName, int dwOptions, byte[] lpData,
                                  int cbData);

    int ClusterRegCloseBatch(HREGBATCH hRegBatch, boolean bCommit, IntByReference failedCommandNumber);

    int ClusterRegCloseBatchEx(HREGBATCH hRegBatch, int flags, IntByReference failedCommandNumber);

    // ---- 3.4 read batches ----------------------------------------------------------------------

    int ClusterRegCreateReadBatch(WinReg.HKEY hKey, PointerByReference phRegReadBatch);

    /** {@code wzSubkeyName == null}: the batch's own key; {@code wzValueName == null}: the default value. */
    int ClusterRegReadBatchAddCommand(HREGREADBATCH hRegReadBatch, String wzSubkeyName, String wzValueName);

    int ClusterRegCloseReadBatch(HREGREADBATCH hRegReadBatch, PointerByReference phRegReadBatchReply);

    int ClusterRegCloseReadBatchEx(HREGREADBATCH hRegReadBatch, int flags, PointerByReference phRegReadBatchReply);

    /** 0 per record, {@code ERROR_NO_MORE_ITEMS} after the last. Pointers stay valid until the reply is closed. */
    int ClusterRegReadBatchReplyNextCommand(HREGREADBATCHREPLY hRegReadBatchReply, CLUSTER_READ_BATCH_COMMAND pBatchCommand);

    int ClusterRegCloseReadBatchReply(HREGREADBATCHREPLY hRegReadBatchReply);

    // ---- 4. batch notifications ---------------------------------------------------------------

    int ClusterRegCreateBatchNotifyPort(WinReg.HKEY hKey, PointerByReference phBatchNotifyPort);

    /** Blocks until a batch is queued or the port is closed from another thread. */
    int ClusterRegGetBatchNotification(HREGBATCHPORT hBatchNotify, PointerByReference phBatchNotification);

    int ClusterRegBatchReadCommand(HREGBATCHNOTIFICATION hBatchNotification, CLUSTER_BATCH_COMMAND pBatchCommand);

    int ClusterRegBatchCloseNotification(HREGBATCHNOTIFICATION hBatchNotification);

    int ClusterRegCloseBatchNotifyPort(HREGBATCHPORT hBatchNotifyPort);

    // ---- 5. object notifications (V1 and V2) --------------------------------------------------

    /** {@code hChange} = {@link ClusApiTypes#INVALID_HCHANGE} creates a port; an existing port gets the filter added. */
    HCHANGE CreateClusterNotifyPort(HCHANGE hChange, HCLUSTER hCluster, int dwFilter, BaseTSD.DWORD_PTR dwNotifyKey);

    int RegisterClusterNotify(HCHANGE hChange, int dwFilterType, WinNT.HANDLE hObject, BaseTSD.DWORD_PTR dwNotifyKey);

    int GetClusterNotify(HCHANGE hChange, BaseTSD.ULONG_PTRByReference lpdwNotifyKey, IntByReference lpdwFilterType,
                         char[] lpszName, IntByReference lpcchName, int dwMilliseconds);

    boolean CloseClusterNotifyPort(HCHANGE hChange);

    /** {@code Filters} is the first element of a contiguous array ({@code new NOTIFY_FILTER_AND_TYPE().toArray(n)}). */
    HCHANGE CreateClusterNotifyPortV2(HCHANGE hChange, HCLUSTER hCluster, NOTIFY_FILTER_AND_TYPE Filters,
                                      int dwFilterCount, BaseTSD.DWORD_PTR dwNotifyKey);

    /** The filter is passed by value. */
    int RegisterClusterNotifyV2(HCHANGE hChange, NOTIFY_FILTER_AND_TYPE.ByValue Filter, WinNT.HANDLE hObject,
                                BaseTSD.DWORD_PTR dwNotifyKey);

    int GetNotifyEventHandle(HCHANGE hChange, WinNT.HANDLEByReference lphTargetEvent);

    int GetClusterNotifyV2(HCHANGE hChange, BaseTSD.ULONG_PTRByReference lpdwNotifyKey,
                           NOTIFY_FILTER_AND_TYPE pFilterAndType, byte[] buffer, IntByReference lpbBufferSize,
                           char[] lpszObjectId, IntByReference lpcchObjectId, char[] lpszParentId,
                           IntByReference lpcchParentId, char[] lpszName, IntByReference lpcchName, char[] lpszType,
                           IntByReference lpcchType, int dwMilliseconds);
}
