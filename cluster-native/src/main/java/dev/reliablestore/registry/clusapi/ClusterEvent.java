package dev.reliablestore.registry.clusapi;

/**
 * One V2 cluster notification ({@code GetClusterNotifyV2}).
 *
 * @param notifyKey   the key given when the filter was registered
 * @param objectType  a {@code CLUSTER_OBJECT_TYPE_*}
 * @param filterFlags the {@code CLUSTER_CHANGE_*_V2} flags that fired
 * @param objectId    the object's id
 * @param parentId    the parent's id (not set for nodes)
 * @param name        the object's name
 * @param type        the object's type name
 * @param payload     the type-specific buffer (format unverified; re-query state instead)
 */
record ClusterEvent(long notifyKey, int objectType, long filterFlags, String objectId, String parentId, String name,
                    String type, byte[] payload) {
}
