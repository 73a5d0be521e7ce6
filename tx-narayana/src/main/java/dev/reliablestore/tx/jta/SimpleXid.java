package dev.reliablestore.tx.jta;

import dev.reliablestore.spi.tx.TransactionId;

import javax.transaction.xa.Xid;
import java.io.Serializable;
import java.util.Arrays;

/** An immutable {@link Xid} with value equality, and the conversions to {@link TransactionId}. */
final class SimpleXid implements Xid, Serializable {

    private static final long serialVersionUID = 1L;

    private final int formatId;
    private final byte[] gtrid;
    private final byte[] bqual;

    SimpleXid(TransactionId id) {
        this.formatId = id.formatId();
        this.gtrid = id.globalId();
        this.bqual = id.branchQualifier();
    }

    /** The participant's id for an XA Xid; a malformed Xid is an {@link IllegalArgumentException}. */
    static TransactionId toId(Xid xid) {
        if (xid == null) {
            throw new IllegalArgumentException("xid is null");
        }
        return TransactionId.of(xid.getFormatId(), xid.getGlobalTransactionId(), xid.getBranchQualifier());
    }

    @Override
    public int getFormatId() {
        return formatId;
    }

    @Override
    public byte[] getGlobalTransactionId() {
        return gtrid.clone();
    }

    @Override
    public byte[] getBranchQualifier() {
        return bqual.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Xid x && x.getFormatId() == formatId && Arrays.equals(gtrid, x.getGlobalTransactionId())
                && Arrays.equals(bqual, x.getBranchQualifier());
    }

    @Override
    public int hashCode() {
        return 31 * (31 * formatId + Arrays.hashCode(gtrid)) + Arrays.hashCode(bqual);
    }

    @Override
    public String toString() {
        return TransactionId.of(formatId, gtrid, bqual).toString();
    }
}
