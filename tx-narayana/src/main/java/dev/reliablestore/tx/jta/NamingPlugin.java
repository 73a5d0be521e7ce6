package dev.reliablestore.tx.jta;

import com.arjuna.ats.internal.jta.resources.arjunacore.XAResourceRecord;
import com.arjuna.ats.internal.jta.resources.arjunacore.XAResourceRecordWrappingPlugin;
import org.jboss.tm.XAResourceWrapper;

import javax.transaction.xa.XAResource;

/**
 * Copies the product and JNDI name of an {@link XAResourceWrapper} into Narayana's log record, so
 * that recovery can tell "this resource no longer knows the branch because it committed it before
 * the crash" from "no resource to recover with" and removes the finished log.
 */
final class NamingPlugin implements XAResourceRecordWrappingPlugin {

    @Override
    public void transcribeWrapperData(XAResourceRecord record) {
        if (record.value() instanceof XAResourceWrapper w) {
            record.setProductName(w.getProductName());
            record.setProductVersion(w.getProductVersion());
            record.setJndiName(w.getJndiName());
        }
    }

    @Override
    public Integer getEISName(XAResource xaResource) {
        return 0; // EIS names only label log records; the JNDI name above identifies the resource
    }

    @Override
    public String getEISName(Integer eisName) {
        return "unnamed";
    }
}
