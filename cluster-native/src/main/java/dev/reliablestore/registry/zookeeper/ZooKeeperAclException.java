package dev.reliablestore.registry.zookeeper;

import dev.reliablestore.registry.RegistryException;

/**
 * A ZooKeeper chroot is refused because it is not protected as configured: a znode of the store
 * carries another ACL than the configured one, or the store was never verified. The message names the
 * znode, its ACL, the expected ACL and the command that fixes it; no secret is in it (a digest id shows
 * only its user).
 */
public final class ZooKeeperAclException extends RegistryException {

    private static final long serialVersionUID = 1L;

    private final String znode;
    private final String actualAcl;
    private final String expectedAcl;

    ZooKeeperAclException(String message, String znode, String actualAcl, String expectedAcl) {
        super(message);
        this.znode = znode;
        this.actualAcl = actualAcl;
        this.expectedAcl = expectedAcl;
    }

    /** The first znode found wrong (or the marker's path when the store was never verified). */
    public String znode() {
        return znode;
    }

    /** Its ACL as found, for people (null when the znode is missing). */
    public String actualAcl() {
        return actualAcl;
    }

    /** The configured ACL, for people. */
    public String expectedAcl() {
        return expectedAcl;
    }
}
