// SPDX-License-Identifier: GPL-2.0
/*
 * hv_host_sim: the "vmbus" bus, its TimeSync devices, and the VMBus client
 * API that Hyper-V guest drivers import from hv_vmbus.
 *
 * Matching follows hv_vmbus: a device's driver_override, when set, decides;
 * otherwise the driver's id table is searched for the device's class GUID.
 * A channel is a queue of host-to-guest packets; the guest's callback runs
 * from the channel's tasklet (softirq context, as with hv_vmbus's direct
 * callback mode), and what the guest sends goes straight to the host side.
 * Packets are padded to 8 bytes as on a real ring buffer, and a packet larger
 * than the guest's buffer stays queued (-ENOBUFS), as with vmbus_recvpacket.
 */

#include <linux/device.h>
#include <linux/hyperv.h>
#include <linux/interrupt.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "sim.h"

static struct device *sim_root;
static const struct hv_vmbus_device_id sim_ts_id = { HV_TS_GUID };
static const struct hv_vmbus_device_id sim_null_id;

/* What hv_vmbus offers its clients; hv_utils reads it. */
__u32 vmbus_proto_version = VERSION_WIN10_V5_3;
EXPORT_SYMBOL_GPL(vmbus_proto_version);

static const struct hv_vmbus_device_id *
sim_get_id(const struct hv_driver *drv, struct hv_device *hdev)
{
	const struct hv_vmbus_device_id *id;
	int ovr = compat_match_driver_override(hdev, &drv->driver);

	if (ovr == 0)
		return NULL;
	for (id = drv->id_table; id && !guid_is_null(&id->guid); id++)
		if (guid_equal(&id->guid, &hdev->dev_type))
			return id;
	/* A matching override binds even without an id table entry. */
	return ovr > 0 ? &sim_null_id : NULL;
}

static int sim_bus_match(struct device *dev, compat_bus_match_drv_t *drv)
{
	return sim_get_id(drv_to_hv_drv(drv), device_to_hv_device(dev)) != NULL;
}

static int sim_bus_probe(struct device *dev)
{
	struct hv_driver *drv = drv_to_hv_drv(dev->driver);
	struct hv_device *hdev = device_to_hv_device(dev);
	const struct hv_vmbus_device_id *id = sim_get_id(drv, hdev);

	if (!id || !drv->probe)
		return -ENODEV;
	return drv->probe(hdev, id);
}

static void sim_bus_remove(struct device *dev)
{
	struct hv_driver *drv;

	if (!dev->driver)
		return;
	drv = drv_to_hv_drv(dev->driver);
	if (drv->remove)
		drv->remove(device_to_hv_device(dev));
}

#ifndef COMPAT_BUS_DRIVER_OVERRIDE
/* The driver core does not provide the attribute: do it as hv_vmbus does. */
static ssize_t driver_override_store(struct device *dev,
				     struct device_attribute *attr,
				     const char *buf, size_t count)
{
	struct hv_device *hdev = device_to_hv_device(dev);
	int ret;

	ret = driver_set_override(dev, &hdev->driver_override, buf, count);
	return ret ? ret : count;
}

static ssize_t driver_override_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	struct hv_device *hdev = device_to_hv_device(dev);
	ssize_t len;

	device_lock(dev);
	len = sysfs_emit(buf, "%s\n", hdev->driver_override);
	device_unlock(dev);
	return len;
}
static DEVICE_ATTR_RW(driver_override);

static struct attribute *sim_dev_attrs[] = {
	&dev_attr_driver_override.attr,
	NULL,
};
ATTRIBUTE_GROUPS(sim_dev);
#endif

#ifdef CONFIG_PM_SLEEP
/*
 * Hibernation as hv_vmbus has it (drivers/hv/vmbus_drv.c, vmbus_pm): a
 * bound driver's suspend() from the freeze and poweroff noirq phases,
 * its resume() from thaw and restore; a bound driver without them makes
 * the transition fail with -EOPNOTSUPP. No callbacks for suspend to RAM.
 */
static void pm_count(struct device *dev, bool suspend)
{
	struct sim_dev *sd = container_of(device_to_hv_device(dev),
					  struct sim_dev, hdev);
	unsigned long flags;

	spin_lock_irqsave(&sd->lock, flags);
	if (suspend)
		sd->st.pm_suspends++;
	else
		sd->st.pm_resumes++;
	spin_unlock_irqrestore(&sd->lock, flags);
}

static int sim_bus_pm_suspend(struct device *dev)
{
	struct hv_driver *drv;

	if (!dev->driver)
		return 0;
	drv = drv_to_hv_drv(dev->driver);
	if (!drv->suspend)
		return -EOPNOTSUPP;
	pm_count(dev, true);
	return drv->suspend(device_to_hv_device(dev));
}

static int sim_bus_pm_resume(struct device *dev)
{
	struct hv_driver *drv;

	if (!dev->driver)
		return 0;
	drv = drv_to_hv_drv(dev->driver);
	if (!drv->resume)
		return -EOPNOTSUPP;
	pm_count(dev, false);
	return drv->resume(device_to_hv_device(dev));
}

static const struct dev_pm_ops sim_bus_pm = {
	.freeze_noirq = sim_bus_pm_suspend,
	.thaw_noirq = sim_bus_pm_resume,
	.poweroff_noirq = sim_bus_pm_suspend,
	.restore_noirq = sim_bus_pm_resume,
};
#endif

static COMPAT_BUS_TYPE sim_bus = {
	.name = "vmbus",
	.match = sim_bus_match,
	.probe = sim_bus_probe,
	.remove = sim_bus_remove,
#ifdef CONFIG_PM_SLEEP
	.pm = &sim_bus_pm,
#endif
#ifdef COMPAT_BUS_DRIVER_OVERRIDE
	.driver_override = true,
#else
	.dev_groups = sim_dev_groups,
#endif
};

int __vmbus_driver_register(struct hv_driver *hv_driver, struct module *owner,
			    const char *mod_name)
{
	hv_driver->driver.name = hv_driver->name;
	hv_driver->driver.owner = owner;
	hv_driver->driver.mod_name = mod_name;
	hv_driver->driver.bus = &sim_bus;
	spin_lock_init(&hv_driver->dynids.lock);
	INIT_LIST_HEAD(&hv_driver->dynids.list);
	return driver_register(&hv_driver->driver);
}
EXPORT_SYMBOL_GPL(__vmbus_driver_register);

void vmbus_driver_unregister(struct hv_driver *hv_driver)
{
	driver_unregister(&hv_driver->driver);
}
EXPORT_SYMBOL_GPL(vmbus_driver_unregister);

static struct sim_dev *chan_to_sim(struct vmbus_channel *chan)
{
	return container_of(chan, struct sim_dev, chan);
}

static void sim_chan_tasklet(struct tasklet_struct *t)
{
	struct vmbus_channel *chan = from_tasklet(chan, t, callback_event);
	void (*cb)(void *ctx) = READ_ONCE(chan->onchannel_callback);

	if (cb && READ_ONCE(chan_to_sim(chan)->opened))
		cb(chan->channel_callback_context);
}

int vmbus_open(struct vmbus_channel *channel, u32 send_ringbuffersize,
	       u32 recv_ringbuffersize, void *userdata, u32 userdatalen,
	       void (*onchannel_callback)(void *context), void *context)
{
	struct sim_dev *sd = chan_to_sim(channel);
	unsigned long flags;

	if (!onchannel_callback)
		return -EINVAL;
	spin_lock_irqsave(&sd->lock, flags);
	if (sd->opened) {
		spin_unlock_irqrestore(&sd->lock, flags);
		return -EBUSY;
	}
	channel->onchannel_callback = onchannel_callback;
	channel->channel_callback_context = context;
	sd->opened = true;
	sd->negotiated = false;
	sd->fw_version = 0;
	sd->ts_version = 0;
	sd->head = 0;
	sd->count = 0;
	memset(sd->pending, 0, sizeof(sd->pending));
	sd->st.opens++;
	spin_unlock_irqrestore(&sd->lock, flags);

	sim_host_channel_opened(sd);
	return 0;
}
EXPORT_SYMBOL_GPL(vmbus_open);

void vmbus_close(struct vmbus_channel *channel)
{
	struct sim_dev *sd = chan_to_sim(channel);
	unsigned long flags;

	spin_lock_irqsave(&sd->lock, flags);
	sd->opened = false;
	sd->negotiated = false;
	sd->count = 0;
	sd->st.closes++;
	spin_unlock_irqrestore(&sd->lock, flags);

	/* No new callbacks after this; a running one completes first. */
	tasklet_kill(&channel->callback_event);
	channel->onchannel_callback = NULL;
}
EXPORT_SYMBOL_GPL(vmbus_close);

int vmbus_recvpacket(struct vmbus_channel *channel, void *buffer,
		     u32 bufferlen, u32 *buffer_actual_len, u64 *requestid)
{
	struct sim_dev *sd = chan_to_sim(channel);
	struct sim_pkt *p;
	unsigned long flags;

	if (!bufferlen)
		return -EINVAL;
	*buffer_actual_len = 0;
	*requestid = 0;

	spin_lock_irqsave(&sd->lock, flags);
	if (!sd->count) {
		spin_unlock_irqrestore(&sd->lock, flags);
		return 0;
	}
	p = &sd->ring[sd->head];
	*buffer_actual_len = p->len;
	*requestid = p->txid;
	if (p->len > bufferlen) {
		spin_unlock_irqrestore(&sd->lock, flags);
		return -ENOBUFS;
	}
	memcpy(buffer, p->data, p->len);
	sd->head = (sd->head + 1) % SIM_QUEUE_LEN;
	sd->count--;
	spin_unlock_irqrestore(&sd->lock, flags);
	return 0;
}
EXPORT_SYMBOL(vmbus_recvpacket);

int vmbus_sendpacket(struct vmbus_channel *channel, void *buffer,
		     u32 bufferLen, u64 requestid,
		     enum vmbus_packet_type type, u32 flags)
{
	struct sim_dev *sd = chan_to_sim(channel);

	if (!READ_ONCE(sd->opened))
		return -EINVAL;
	if (type != VM_PKT_DATA_INBAND)
		return -EINVAL;
	sim_host_response(sd, buffer, bufferLen, requestid);
	return 0;
}
EXPORT_SYMBOL(vmbus_sendpacket);

/* Highest version in the guest's preference list that the host offers. */
static int sim_pick_version(const int *mine, int n_mine,
			    const struct ic_version *offered, u32 n_offered)
{
	int i;
	u32 j;

	for (i = 0; i < n_mine; i++)
		for (j = 0; j < n_offered; j++)
			if (offered[j].major == (mine[i] >> 16) &&
			    offered[j].minor == (mine[i] & 0xffff))
				return mine[i];
	return -1;
}

/*
 * The guest-side negotiation helper of hv_vmbus, with its contract: the
 * negotiate message in @buf is turned into the response in place (one
 * framework and one service version, or zero counts when nothing matches),
 * and the chosen versions are returned. As in hv_vmbus, on failure the
 * returned "versions" are the offered counts in the major field.
 */
bool vmbus_prep_negotiate_resp(struct icmsg_hdr *icmsghdrp, u8 *buf,
			       u32 buflen, const int *fw_version,
			       int fw_vercnt, const int *srv_version,
			       int srv_vercnt, int *nego_fw_version,
			       int *nego_srv_version)
{
	struct icmsg_negotiate *neg;
	u32 n_fw, n_srv;
	int fw = -1, srv = -1;
	bool ok;

	if (buflen < ICMSG_HDR + offsetof(struct icmsg_negotiate, reserved))
		return false;
	icmsghdrp->icmsgsize = 0x10;
	neg = (struct icmsg_negotiate *)&buf[ICMSG_HDR];
	n_fw = neg->icframe_vercnt;
	n_srv = neg->icmsg_vercnt;

	if (n_fw <= IC_VERSION_NEGOTIATION_MAX_VER_COUNT &&
	    n_srv <= IC_VERSION_NEGOTIATION_MAX_VER_COUNT &&
	    ICMSG_NEGOTIATE_PKT_SIZE(n_fw, n_srv) <= buflen) {
		fw = sim_pick_version(fw_version, fw_vercnt,
				      neg->icversion_data, n_fw);
		if (fw >= 0)
			srv = sim_pick_version(srv_version, srv_vercnt,
					       neg->icversion_data + n_fw,
					       n_srv);
	}
	ok = fw >= 0 && srv >= 0;
	if (fw < 0)
		fw = n_fw << 16;
	if (srv < 0)
		srv = n_srv << 16;
	if (nego_fw_version)
		*nego_fw_version = fw;
	if (nego_srv_version)
		*nego_srv_version = srv;

	neg->icframe_vercnt = ok;
	neg->icmsg_vercnt = ok;
	if (ICMSG_NEGOTIATE_PKT_SIZE(2, 0) <= buflen) {
		neg->icversion_data[0].major = fw >> 16;
		neg->icversion_data[0].minor = fw & 0xffff;
		neg->icversion_data[1].major = srv >> 16;
		neg->icversion_data[1].minor = srv & 0xffff;
	}
	return ok;
}
EXPORT_SYMBOL_GPL(vmbus_prep_negotiate_resp);

int sim_dev_enqueue(struct sim_dev *sd, const void *msg, u32 len,
		    enum sim_kind kind)
{
	unsigned long flags;
	struct sim_pkt *p;
	u32 padded = ALIGN(len, 8);

	if (padded > SIM_PKT_MAX)
		return -EMSGSIZE;
	spin_lock_irqsave(&sd->lock, flags);
	if (!sd->opened) {
		spin_unlock_irqrestore(&sd->lock, flags);
		return -ENOTCONN;
	}
	if (sd->count == SIM_QUEUE_LEN) {
		sd->st.queue_drops++;
		spin_unlock_irqrestore(&sd->lock, flags);
		return -ENOSPC;
	}
	p = &sd->ring[(sd->head + sd->count) % SIM_QUEUE_LEN];
	memcpy(p->data, msg, len);
	memset(p->data + len, 0, padded - len);
	p->len = padded;
	p->txid = ++sd->next_txid;
	sd->pending[p->txid % SIM_TXID_SLOTS].txid = p->txid;
	sd->pending[p->txid % SIM_TXID_SLOTS].kind = kind;
	sd->pending[p->txid % SIM_TXID_SLOTS].used = true;
	sd->st.sent[kind]++;
	sd->count++;
	spin_unlock_irqrestore(&sd->lock, flags);

	tasklet_schedule(&sd->chan.callback_event);
	return 0;
}

static void sim_dev_release(struct device *dev)
{
	struct sim_dev *sd = container_of(device_to_hv_device(dev),
					  struct sim_dev, hdev);

#ifndef COMPAT_BUS_DRIVER_OVERRIDE
	kfree(sd->hdev.driver_override);
#endif
	vfree(sd->ring);
	kfree(sd);
}

struct sim_dev *sim_dev_add(int index, const char *driver_override)
{
	struct sim_dev *sd;
	struct device *dev;
	int ret;

	sd = kzalloc(sizeof(*sd), GFP_KERNEL);
	if (!sd)
		return ERR_PTR(-ENOMEM);
	sd->ring = vzalloc(array_size(SIM_QUEUE_LEN, sizeof(*sd->ring)));
	if (!sd->ring) {
		kfree(sd);
		return ERR_PTR(-ENOMEM);
	}
	sd->index = index;
	spin_lock_init(&sd->lock);

	sd->hdev.dev_type = sim_ts_id.guid;
	sd->hdev.dev_instance = GUID_INIT(0x4e7b2ab4, 0x5ee9, 0x4a25, 0xa7,
					  0x61, 0x3c, 0x1a, 0x53, 0x4e, 0x2b,
					  index);
	sd->hdev.vendor_id = 0x1414;	/* Microsoft */
	sd->hdev.channel = &sd->chan;
	sd->chan.device_obj = &sd->hdev;
	sd->chan.offermsg.offer.if_type = sd->hdev.dev_type;
	sd->chan.offermsg.offer.if_instance = sd->hdev.dev_instance;
	tasklet_setup(&sd->chan.callback_event, sim_chan_tasklet);

	dev = &sd->hdev.device;
	dev->bus = &sim_bus;
	dev->parent = sim_root;
	dev->release = sim_dev_release;
	device_initialize(dev);
	ret = dev_set_name(dev, "%pUl", &sd->hdev.dev_instance);
	if (!ret && driver_override && *driver_override)
		ret = compat_set_driver_override(&sd->hdev, driver_override);
	if (!ret)
		ret = device_add(dev);
	if (ret) {
		put_device(dev);
		return ERR_PTR(ret);
	}
	return sd;
}

void sim_dev_remove(struct sim_dev *sd)
{
	device_unregister(&sd->hdev.device);
}

int sim_bus_init(void)
{
	int ret;

	sim_root = root_device_register("hv_host_sim");
	if (IS_ERR(sim_root))
		return PTR_ERR(sim_root);
	ret = bus_register(&sim_bus);
	if (ret)
		root_device_unregister(sim_root);
	return ret;
}

void sim_bus_exit(void)
{
	bus_unregister(&sim_bus);
	root_device_unregister(sim_root);
}
