package dev.reliablestore.examples.shop;

import org.springframework.data.annotation.Id;
import org.springframework.data.annotation.Version;

/** An order of a customer, for an amount in cents. */
public class Order {

    @Id private String id;
    @Version private Long version;
    private String customerId;
    private long amount;

    public Order() {
    }

    public Order(String id, String customerId, long amount) {
        this.id = id;
        this.customerId = customerId;
        this.amount = amount;
    }

    public String getId() {
        return id;
    }

    public void setId(String id) {
        this.id = id;
    }

    public Long getVersion() {
        return version;
    }

    public void setVersion(Long version) {
        this.version = version;
    }

    public String getCustomerId() {
        return customerId;
    }

    public void setCustomerId(String customerId) {
        this.customerId = customerId;
    }

    public long getAmount() {
        return amount;
    }

    public void setAmount(long amount) {
        this.amount = amount;
    }
}
