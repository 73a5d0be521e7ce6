package dev.reliablestore.examples.shop;

import org.springframework.data.annotation.Id;
import org.springframework.data.annotation.Version;

/** A customer; {@code creditLimit} bounds the sum of its invoices. */
public class Customer {

    @Id private String id;
    @Version private Long version;
    private String name;
    private long creditLimit;

    public Customer() {
    }

    public Customer(String id, String name, long creditLimit) {
        this.id = id;
        this.name = name;
        this.creditLimit = creditLimit;
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

    public String getName() {
        return name;
    }

    public void setName(String name) {
        this.name = name;
    }

    public long getCreditLimit() {
        return creditLimit;
    }

    public void setCreditLimit(long creditLimit) {
        this.creditLimit = creditLimit;
    }
}
