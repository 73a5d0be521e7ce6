package dev.reliablestore.registry.zookeeper;

import dev.reliablestore.registry.RegistryArgumentException;

/**
 * Opening is refused because another open registry (another live ZooKeeper session) holds this
 * registry's {@code nodeName} on the chroot: its member znode {@code cluster/members/{nodeName}}
 * still belonged to that session after the registry waited for as long as a crashed process's
 * session can outlive it ({@code sessionTimeout} and a margin). A configuration mistake, like
 * any invalid option: every process needs its own {@code nodeName}. The other registry's member
 * znode is left as it was. No data was written.
 */
public final class ZooKeeperNodeNameInUseException extends RegistryArgumentException {

    private static final long serialVersionUID = 1L;

    private final String nodeName;
    private final String chroot;
    private final long ownerSessionId;

    ZooKeeperNodeNameInUseException(String message, String nodeName, String chroot, long ownerSessionId) {
        super(message);
        this.nodeName = nodeName;
        this.chroot = chroot;
        this.ownerSessionId = ownerSessionId;
    }

    /** The configured {@code nodeName}. */
    public String nodeName() {
        return nodeName;
    }

    /** The chroot of the registry's URI. */
    public String chroot() {
        return chroot;
    }

    /** The ZooKeeper session that holds the member znode (the message shows it in hex, as the server's logs do). */
    public long ownerSessionId() {
        return ownerSessionId;
    }
}
