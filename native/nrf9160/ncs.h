/*
 * Everything of the nRF Connect SDK (NCS 3.x: sdk-nrf, nrfxlib's libmodem,
 * Zephyr) and of Moddable's Zephyr port that the nRF9160 bindings use: the
 * functions, types, constants and macros, in one place.
 *
 * Three ways to read this file:
 * - In the firmware build (Zephyr defines __ZEPHYR__) it includes the SDK's
 *   own headers and only bridges the socket names Zephyr renamed in 4.4
 *   (ZSOCK_SOL_TLS for SOL_TLS and so on; the bindings use the new names).
 * - Anywhere else (CI's Cortex-M33 compile with arm-none-eabi-gcc) it declares
 *   the same things itself, so the bindings compile with every warning on
 *   without an SDK installed.
 * - With NCS_H_CHECK, after the SDK's headers, it turns each declaration of
 *   the list below into a compile-time check that the SDK declares the same
 *   function type, and NCS_H_VALUES lists the constants and layouts a probe
 *   compares between the two (native/nrf9160/README.md says how and against
 *   which SDK commits this was done).
 */

#ifndef NRFCLOUD_NCS_H
#define NRFCLOUD_NCS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#if defined(__ZEPHYR__) || defined(NCS_H_CHECK)

/* ---- the SDK's headers ---- */
#include <zephyr/kernel.h>
#include <zephyr/net/socket.h>
#include <zephyr/net/tls_credentials.h>
#include <zephyr/settings/settings.h>
#include <zephyr/dfu/mcuboot.h>
#include <zephyr/storage/flash_map.h>
#include <zephyr/sys/reboot.h>
#include <nrf_modem.h>
#include <nrf_modem_at.h>
#include <modem/at_monitor.h>
#include <modem/lte_lc.h>
#include <modem/modem_key_mgmt.h>
#include <modem/nrf_modem_lib.h>
#include <dfu/dfu_target.h>
#include <dfu/dfu_target_mcuboot.h>
#include <net/fota_download.h>
#include <nrf_modem_gnss.h>
#include <dk_buttons_and_leds.h>
#include <zephyr/device.h>
#include <zephyr/drivers/sensor.h>

/* Zephyr before 4.4 has the socket names without the ZSOCK_/NET_ prefixes. */
#ifndef ZSOCK_SOL_TLS
#define ZSOCK_SOL_TLS SOL_TLS
#define ZSOCK_TLS_SEC_TAG_LIST TLS_SEC_TAG_LIST
#define ZSOCK_TLS_HOSTNAME TLS_HOSTNAME
#define ZSOCK_TLS_PEER_VERIFY TLS_PEER_VERIFY
#define ZSOCK_TLS_SESSION_CACHE TLS_SESSION_CACHE
#define ZSOCK_TLS_PEER_VERIFY_NONE TLS_PEER_VERIFY_NONE
#define ZSOCK_TLS_PEER_VERIFY_REQUIRED TLS_PEER_VERIFY_REQUIRED
#define ZSOCK_TLS_SESSION_CACHE_ENABLED TLS_SESSION_CACHE_ENABLED
#endif
#ifndef ZSOCK_SOL_SOCKET
#define ZSOCK_SOL_SOCKET SOL_SOCKET
#define ZSOCK_SO_ERROR SO_ERROR
#endif
#ifndef NET_AF_INET
#define NET_AF_UNSPEC AF_UNSPEC
#define NET_SOCK_STREAM SOCK_STREAM
#define NET_IPPROTO_TCP IPPROTO_TCP
#define NET_IPPROTO_TLS_1_2 IPPROTO_TLS_1_2
#define net_sockaddr sockaddr
typedef socklen_t net_socklen_t;
#endif

#else /* neither the firmware build nor the check: the project's own declarations */

/* ---- Zephyr kernel (include/zephyr/kernel.h, sys/atomic.h, sys/reboot.h) ---- */
typedef int64_t k_ticks_t;
typedef struct { k_ticks_t ticks; } k_timeout_t;
#define K_NO_WAIT ((k_timeout_t){ 0 })
#define K_FOREVER ((k_timeout_t){ -1 })
#define K_MSEC(ms) ((k_timeout_t){ (k_ticks_t)(ms) * 32768 / 1000 })
typedef void (*k_thread_entry_t)(void* p1, void* p2, void* p3);
struct k_thread;
typedef struct k_thread* k_tid_t;
struct k_sem { void* wait_q[2]; unsigned int count; unsigned int limit; void* poll_events[2]; };
struct k_mutex { void* wait_q[2]; struct k_thread* owner; uint32_t lock_count; int owner_orig_prio; };
/* The firmware build's macros place these in linker sections; here a definition is enough to compile against. */
#define K_SEM_DEFINE(name, initial_count, count_limit) struct k_sem name = { { 0, 0 }, (initial_count), (count_limit), { 0, 0 } }
#define K_MUTEX_DEFINE(name) struct k_mutex name = { { 0, 0 }, 0, 0, 0 }
struct ncs_static_thread { k_thread_entry_t entry; size_t stack_size; int prio; };
#define K_THREAD_DEFINE(name, stack_size, entry, p1, p2, p3, prio, options, delay) \
	const struct ncs_static_thread name = { (entry), (stack_size), (prio) }
#define K_PRIO_PREEMPT(x) (x)
#define SYS_REBOOT_COLD 1

/* ---- Zephyr BSD sockets, offloaded to the modem (include/zephyr/net/socket.h, net_ip.h, tls_credentials.h) ---- */
typedef uint32_t net_socklen_t;
struct net_sockaddr { uint16_t sa_family; char data[22]; };
typedef int sec_tag_t;
struct zsock_pollfd { int fd; short events; short revents; };
struct zsock_addrinfo {
	struct zsock_addrinfo* ai_next;
	int ai_flags;
	int ai_family;
	int ai_socktype;
	int ai_protocol;
	int ai_eflags;
	net_socklen_t ai_addrlen;
	struct net_sockaddr* ai_addr;
	char* ai_canonname;
};
#define ZSOCK_POLLIN 1
#define ZSOCK_POLLOUT 4
#define ZSOCK_POLLERR 8
#define ZSOCK_POLLHUP 0x10
#define ZSOCK_POLLNVAL 0x20
#define ZSOCK_MSG_DONTWAIT 0x40
#define ZSOCK_SOL_SOCKET 1
#define ZSOCK_SO_ERROR 4
#define ZSOCK_SOL_TLS 282
#define ZSOCK_TLS_SEC_TAG_LIST 1
#define ZSOCK_TLS_HOSTNAME 2
#define ZSOCK_TLS_PEER_VERIFY 5
#define ZSOCK_TLS_SESSION_CACHE 12
#define ZSOCK_TLS_PEER_VERIFY_NONE 0
#define ZSOCK_TLS_PEER_VERIFY_REQUIRED 2
#define ZSOCK_TLS_SESSION_CACHE_ENABLED 1
#define NET_AF_UNSPEC 0
#define NET_SOCK_STREAM 1
#define NET_IPPROTO_TCP 6
#define NET_IPPROTO_TLS_1_2 258
#define DNS_EAI_MEMORY -10

/* ---- Zephyr settings (include/zephyr/settings/settings.h) ---- */
typedef ssize_t (*settings_read_cb)(void* cb_arg, void* data, size_t len);
typedef int (*settings_load_direct_cb)(const char* key, size_t len, settings_read_cb read_cb, void* cb_arg, void* param);

/* ---- libmodem (nrfxlib nrf_modem/include/nrf_modem_at.h, nrf_socket.h, nrf_modem.h) ---- */
#define NRF_MODEM_AT_ERROR 1
#define NRF_MODEM_AT_CME_ERROR 2
#define NRF_MODEM_AT_CMS_ERROR 3
typedef uint32_t nrf_sec_tag_t;
#define NRF_SOCKET_TLS_MAX_MESSAGE_SIZE 2048
#define NRF_MODEM_DFU_RESULT_OK 0x5500001u

/* ---- AT monitor (sdk-nrf include/modem/at_monitor.h) ---- */
typedef void (*at_monitor_handler_t)(const char* notif);
struct at_monitor_entry {
	const char* filter;
	const at_monitor_handler_t handler;
	struct {
		uint8_t paused : 1;
		uint8_t direct : 1;
	} flags;
};
#define ANY NULL
/* The firmware build's macro puts the entry in the iterable section at_monitor dispatches from. */
#define AT_MONITOR(name, _filter, _handler) \
	static void _handler(const char*); \
	const struct at_monitor_entry name = { .filter = (_filter), .handler = _handler, .flags = { 0, 0 } }

/* ---- nrf_modem_lib (sdk-nrf include/modem/nrf_modem_lib.h) ---- */
struct nrf_modem_lib_dfu_cb {
	void (*callback)(int dfu_res, void* ctx);
	void* context;
};
#define NRF_MODEM_LIB_ON_DFU_RES(name, _callback, _context) \
	static void _callback(int dfu_res, void* ctx); \
	const struct nrf_modem_lib_dfu_cb nrf_modem_dfu_hook_##name = { .callback = _callback, .context = (_context) }

/* ---- modem key management (sdk-nrf include/modem/modem_key_mgmt.h) ---- */
enum modem_key_mgmt_cred_type {
	MODEM_KEY_MGMT_CRED_TYPE_CA_CHAIN,
	MODEM_KEY_MGMT_CRED_TYPE_PUBLIC_CERT,
	MODEM_KEY_MGMT_CRED_TYPE_PRIVATE_CERT,
	MODEM_KEY_MGMT_CRED_TYPE_PSK,
	MODEM_KEY_MGMT_CRED_TYPE_IDENTITY,
};

/* ---- LTE link control (sdk-nrf include/modem/lte_lc.h) ---- */
enum lte_lc_nw_reg_status {
	LTE_LC_NW_REG_NOT_REGISTERED = 0,
	LTE_LC_NW_REG_REGISTERED_HOME = 1,
	LTE_LC_NW_REG_SEARCHING = 2,
	LTE_LC_NW_REG_REGISTRATION_DENIED = 3,
	LTE_LC_NW_REG_UNKNOWN = 4,
	LTE_LC_NW_REG_REGISTERED_ROAMING = 5,
	LTE_LC_NW_REG_UICC_FAIL = 90,
};
enum lte_lc_evt_type {
	LTE_LC_EVT_NW_REG_STATUS = 0,
};
enum lte_lc_rrc_mode { LTE_LC_RRC_MODE_IDLE = 0, LTE_LC_RRC_MODE_CONNECTED = 1 };
/* Only the members the bindings read; the union is 8-byte aligned in the SDK too (it holds a uint64_t). */
struct lte_lc_evt {
	enum lte_lc_evt_type type;
	union {
		enum lte_lc_nw_reg_status nw_reg_status;
		enum lte_lc_rrc_mode rrc_mode;
		uint64_t time;
	};
};
typedef void (*lte_lc_evt_handler_t)(const struct lte_lc_evt* const evt);

/* ---- DFU targets (sdk-nrf include/dfu/dfu_target.h, dfu_target_mcuboot.h) ---- */
enum dfu_target_image_type {
	DFU_TARGET_IMAGE_TYPE_NONE = 0,
	DFU_TARGET_IMAGE_TYPE_MCUBOOT = 1,
	DFU_TARGET_IMAGE_TYPE_MODEM_DELTA = 2,
};
enum dfu_target_evt_id { DFU_TARGET_EVT_ERASE_PENDING, DFU_TARGET_EVT_TIMEOUT, DFU_TARGET_EVT_ERASE_DONE };
typedef void (*dfu_target_callback_t)(enum dfu_target_evt_id evt_id);

/* ---- MCUboot image header (include/zephyr/dfu/mcuboot.h) ---- */
struct mcuboot_img_sem_ver {
	uint8_t major;
	uint8_t minor;
	uint16_t revision;
	uint32_t build_num;
};
struct mcuboot_img_header_v1 {
	uint32_t image_size;
	struct mcuboot_img_sem_ver sem_ver;
};
struct mcuboot_img_header {
	uint32_t mcuboot_version;
	union {
		struct mcuboot_img_header_v1 v1;
	} h;
};

/* ---- flash map (include/zephyr/storage/flash_map.h; sdk-nrf include/flash_map_pm.h) ---- */
struct device;
struct flash_area {
	uint8_t fa_id;
	uint8_t fa_device_id;
	uint16_t pad16;
	off_t fa_off;
	size_t fa_size;
	const struct device* fa_dev;
};
/*
 * The firmware build's macro gives the partition manager's id of the MCUboot
 * slot (slot0_partition is mcuboot_primary, slot1_partition mcuboot_secondary);
 * here any distinct ids let the bindings compile.
 */
#define FIXED_PARTITION_ID(label) NCS_PARTITION_ID_##label
#define NCS_PARTITION_ID_slot0_partition 1
#define NCS_PARTITION_ID_slot1_partition 2

/* ---- GNSS (nrfxlib nrf_modem/include/nrf_modem_gnss.h) ---- */
#define NRF_MODEM_GNSS_EVT_NMEA 3
#define NRF_MODEM_GNSS_DATA_NMEA 2
#define NRF_MODEM_GNSS_NMEA_GGA_MASK 0x01
#define NRF_MODEM_GNSS_NMEA_RMC_MASK 0x10
#define NRF_MODEM_GNSS_NMEA_MAX_LEN 83
struct nrf_modem_gnss_nmea_data_frame { char nmea_str[NRF_MODEM_GNSS_NMEA_MAX_LEN]; };
typedef void (*nrf_modem_gnss_event_handler_type_t)(int event);

/* ---- DK buttons and LEDs (sdk-nrf include/dk_buttons_and_leds.h) ---- */
typedef void (*button_handler_t)(uint32_t button_state, uint32_t has_changed);
#define DK_BTN1_MSK (1u << 0)
#define DK_BTN2_MSK (1u << 1)
#define DK_BTN3_MSK (1u << 2)
#define DK_BTN4_MSK (1u << 3)
#define DK_LED1 0

/* ---- devices, sensors and delayed work (include/zephyr/device.h, drivers/sensor.h, kernel.h) ---- */
struct sensor_value { int32_t val1; int32_t val2; };
enum sensor_channel { SENSOR_CHAN_ACCEL_X = 0, SENSOR_CHAN_ACCEL_Y = 1, SENSOR_CHAN_ACCEL_Z = 2, SENSOR_CHAN_ACCEL_XYZ = 3 };
/* The firmware build's macro is the devicetree's device of that compatible; here any device lets the bindings compile. */
extern const struct device ncs_device_adi_adxl362;
#define DEVICE_DT_GET_ONE(compat) (&ncs_device_##compat)
struct k_work;
typedef void (*k_work_handler_t)(struct k_work* work);
/* Only its size matters to the bindings, which never look inside. */
struct k_work_delayable { void* opaque[12]; };

/* ---- Moddable's Zephyr port (xs/platforms/zephyr/xsHost.h, Moddable SDK 8.2.3) ---- */
typedef void (*modMessageDeliver)(void* the, void* refcon, uint8_t* message, uint16_t messageLength);

#endif /* own declarations */

/*
 * The functions, one line each: a declaration here (own declarations), a
 * check against the SDK's declaration (NCS_H_CHECK), nothing in the firmware
 * build (the SDK's headers declare them).
 */
#if defined(NCS_H_CHECK)
#define NCS_FN(type, name, parameters) \
	_Static_assert(__builtin_types_compatible_p(__typeof__(name), type parameters), "ncs.h: " #name " differs from the SDK")
#elif defined(__ZEPHYR__)
#define NCS_FN(type, name, parameters) struct ncs_h_unused_##name
#else
#define NCS_FN(type, name, parameters) type name parameters
#endif

/* kernel */
NCS_FN(void, k_sem_give, (struct k_sem* sem));
NCS_FN(int, k_sem_take, (struct k_sem* sem, k_timeout_t timeout));
NCS_FN(int, k_mutex_lock, (struct k_mutex* mutex, k_timeout_t timeout));
NCS_FN(int, k_mutex_unlock, (struct k_mutex* mutex));
NCS_FN(int32_t, k_sleep, (k_timeout_t timeout));
NCS_FN(uint32_t, k_uptime_get_32, (void));
NCS_FN(void*, k_malloc, (size_t size));
NCS_FN(void, k_free, (void* ptr));
#if !defined(__ZEPHYR__) && !defined(NCS_H_CHECK)
__attribute__((noreturn)) void sys_reboot(int type);
#else
NCS_FN(void, sys_reboot, (int type));
#endif

/* sockets */
NCS_FN(int, zsock_socket, (int family, int type, int proto));
NCS_FN(int, zsock_close, (int sock));
NCS_FN(int, zsock_connect, (int sock, const struct net_sockaddr* addr, net_socklen_t addrlen));
NCS_FN(ssize_t, zsock_send, (int sock, const void* buf, size_t len, int flags));
NCS_FN(ssize_t, zsock_recv, (int sock, void* buf, size_t max_len, int flags));
NCS_FN(int, zsock_setsockopt, (int sock, int level, int optname, const void* optval, net_socklen_t optlen));
NCS_FN(int, zsock_getsockopt, (int sock, int level, int optname, void* optval, net_socklen_t* optlen));
NCS_FN(int, zsock_poll, (struct zsock_pollfd* fds, int nfds, int timeout));
NCS_FN(int, zsock_getaddrinfo, (const char* host, const char* service, const struct zsock_addrinfo* hints, struct zsock_addrinfo** res));
NCS_FN(void, zsock_freeaddrinfo, (struct zsock_addrinfo* ai));

/* settings */
NCS_FN(int, settings_subsys_init, (void));
NCS_FN(int, settings_save_one, (const char* name, const void* value, size_t val_len));
NCS_FN(int, settings_delete, (const char* name));
NCS_FN(int, settings_load_subtree_direct, (const char* subtree, settings_load_direct_cb cb, void* param));

/* libmodem AT interface */
NCS_FN(int, nrf_modem_at_cmd, (void* buf, size_t len, const char* fmt, ...));

/* modem key management */
NCS_FN(int, modem_key_mgmt_write, (nrf_sec_tag_t sec_tag, enum modem_key_mgmt_cred_type cred_type, const void* buf, size_t len));
NCS_FN(int, modem_key_mgmt_delete, (nrf_sec_tag_t sec_tag, enum modem_key_mgmt_cred_type cred_type));
NCS_FN(int, modem_key_mgmt_exists, (nrf_sec_tag_t sec_tag, enum modem_key_mgmt_cred_type cred_type, bool* exists));
NCS_FN(int, modem_key_mgmt_cmp, (nrf_sec_tag_t sec_tag, enum modem_key_mgmt_cred_type cred_type, const void* buf, size_t len));

/* LTE link control */
NCS_FN(int, lte_lc_connect_async, (lte_lc_evt_handler_t handler));
NCS_FN(int, lte_lc_deregister_handler, (lte_lc_evt_handler_t handler));
NCS_FN(int, lte_lc_offline, (void));
NCS_FN(int, lte_lc_nw_reg_status_get, (enum lte_lc_nw_reg_status* status));

/* DFU */
NCS_FN(int, dfu_target_mcuboot_set_buf, (uint8_t* buf, size_t len));
NCS_FN(int, dfu_target_init, (int img_type, int img_num, size_t file_size, dfu_target_callback_t cb));
NCS_FN(int, dfu_target_write, (const void* const buf, size_t len));
NCS_FN(int, dfu_target_done, (bool successful));
NCS_FN(int, dfu_target_reset, (void));
NCS_FN(int, dfu_target_schedule_update, (int img_num));
NCS_FN(int, dfu_target_offset_get, (size_t* offset));
NCS_FN(bool, boot_is_img_confirmed, (void));
NCS_FN(int, boot_write_img_confirmed, (void));
NCS_FN(int, boot_read_bank_header, (uint8_t area_id, struct mcuboot_img_header* header, size_t header_size));
NCS_FN(int, fota_download_s0_active_get, (bool* const s0_active));

/* flash map */
NCS_FN(int, flash_area_open, (uint8_t id, const struct flash_area** fa));
NCS_FN(void, flash_area_close, (const struct flash_area* fa));
NCS_FN(int, flash_area_read, (const struct flash_area* fa, off_t off, void* dst, size_t len));

/* nrf_modem_lib */
NCS_FN(int, nrf_modem_lib_init, (void));
NCS_FN(int, nrf_modem_lib_shutdown, (void));

/* GNSS */
NCS_FN(int32_t, nrf_modem_gnss_event_handler_set, (nrf_modem_gnss_event_handler_type_t handler));
NCS_FN(int32_t, nrf_modem_gnss_nmea_mask_set, (uint16_t nmea_mask));
NCS_FN(int32_t, nrf_modem_gnss_fix_interval_set, (uint16_t fix_interval));
NCS_FN(int32_t, nrf_modem_gnss_start, (void));
NCS_FN(int32_t, nrf_modem_gnss_stop, (void));
NCS_FN(int32_t, nrf_modem_gnss_read, (void* buf, int32_t buf_len, int type));

/* DK buttons and LEDs */
NCS_FN(int, dk_buttons_init, (button_handler_t button_handler));
NCS_FN(int, dk_leds_init, (void));
NCS_FN(int, dk_set_led, (uint8_t led_idx, uint32_t val));
NCS_FN(void, dk_read_buttons, (uint32_t* button_state, uint32_t* has_changed));

/* devices, sensors, delayed work */
NCS_FN(bool, device_is_ready, (const struct device* dev));
NCS_FN(int, sensor_sample_fetch, (const struct device* dev));
NCS_FN(int, sensor_channel_get, (const struct device* dev, enum sensor_channel chan, struct sensor_value* val));
NCS_FN(void, k_work_init_delayable, (struct k_work_delayable* dwork, k_work_handler_t handler));
NCS_FN(int, k_work_schedule, (struct k_work_delayable* dwork, k_timeout_t delay));
NCS_FN(int, k_work_cancel_delayable, (struct k_work_delayable* dwork));

/*
 * Moddable's Zephyr port: xsHost.h declares it (for __XS__ sources) in the
 * firmware build. Its post from another thread never waits for room in the
 * machine's queue, and drops the message when the queue is full.
 */
#if !defined(__ZEPHYR__) && !defined(NCS_H_CHECK)
struct xsMachineRecord;
int modMessagePostToMachineFromISR(struct xsMachineRecord* the, modMessageDeliver callback, void* refcon);
#endif

/*
 * The constants and layouts the bindings rely on, for the probe that compares
 * them between the SDK's headers and these declarations: X(name, value), each
 * value an integer from 0 to 65535.
 */
#define NCS_H_VALUES(X) \
	X(zsock_pollin, ZSOCK_POLLIN) \
	X(zsock_pollout, ZSOCK_POLLOUT) \
	X(zsock_pollerr, ZSOCK_POLLERR) \
	X(zsock_pollhup, ZSOCK_POLLHUP) \
	X(zsock_pollnval, ZSOCK_POLLNVAL) \
	X(zsock_msg_dontwait, ZSOCK_MSG_DONTWAIT) \
	X(zsock_sol_socket, ZSOCK_SOL_SOCKET) \
	X(zsock_so_error, ZSOCK_SO_ERROR) \
	X(zsock_sol_tls, ZSOCK_SOL_TLS) \
	X(zsock_tls_sec_tag_list, ZSOCK_TLS_SEC_TAG_LIST) \
	X(zsock_tls_hostname, ZSOCK_TLS_HOSTNAME) \
	X(zsock_tls_peer_verify, ZSOCK_TLS_PEER_VERIFY) \
	X(zsock_tls_session_cache, ZSOCK_TLS_SESSION_CACHE) \
	X(zsock_tls_peer_verify_none, ZSOCK_TLS_PEER_VERIFY_NONE) \
	X(zsock_tls_peer_verify_required, ZSOCK_TLS_PEER_VERIFY_REQUIRED) \
	X(zsock_tls_session_cache_enabled, ZSOCK_TLS_SESSION_CACHE_ENABLED) \
	X(net_af_unspec, NET_AF_UNSPEC) \
	X(net_sock_stream, NET_SOCK_STREAM) \
	X(net_ipproto_tcp, NET_IPPROTO_TCP) \
	X(net_ipproto_tls_1_2, NET_IPPROTO_TLS_1_2) \
	X(dns_eai_memory_negated, -(DNS_EAI_MEMORY)) \
	X(sizeof_sec_tag_t, sizeof(sec_tag_t)) \
	X(sizeof_net_socklen_t, sizeof(net_socklen_t)) \
	X(sizeof_zsock_pollfd, sizeof(struct zsock_pollfd)) \
	X(offsetof_zsock_pollfd_events, offsetof(struct zsock_pollfd, events)) \
	X(offsetof_zsock_pollfd_revents, offsetof(struct zsock_pollfd, revents)) \
	X(offsetof_zsock_addrinfo_ai_next, offsetof(struct zsock_addrinfo, ai_next)) \
	X(offsetof_zsock_addrinfo_ai_family, offsetof(struct zsock_addrinfo, ai_family)) \
	X(offsetof_zsock_addrinfo_ai_socktype, offsetof(struct zsock_addrinfo, ai_socktype)) \
	X(offsetof_zsock_addrinfo_ai_protocol, offsetof(struct zsock_addrinfo, ai_protocol)) \
	X(offsetof_zsock_addrinfo_ai_addrlen, offsetof(struct zsock_addrinfo, ai_addrlen)) \
	X(offsetof_zsock_addrinfo_ai_addr, offsetof(struct zsock_addrinfo, ai_addr)) \
	X(nrf_modem_at_error, NRF_MODEM_AT_ERROR) \
	X(nrf_modem_at_cme_error, NRF_MODEM_AT_CME_ERROR) \
	X(nrf_modem_at_cms_error, NRF_MODEM_AT_CMS_ERROR) \
	X(sizeof_nrf_sec_tag_t, sizeof(nrf_sec_tag_t)) \
	X(nrf_socket_tls_max_message_size, NRF_SOCKET_TLS_MAX_MESSAGE_SIZE) \
	X(nrf_modem_dfu_result_ok_low, NRF_MODEM_DFU_RESULT_OK & 0xFFFF) \
	X(nrf_modem_dfu_result_ok_high, NRF_MODEM_DFU_RESULT_OK >> 16) \
	X(offsetof_at_monitor_entry_handler, offsetof(struct at_monitor_entry, handler)) \
	X(sizeof_at_monitor_entry, sizeof(struct at_monitor_entry)) \
	X(cred_ca_chain, MODEM_KEY_MGMT_CRED_TYPE_CA_CHAIN) \
	X(cred_public_cert, MODEM_KEY_MGMT_CRED_TYPE_PUBLIC_CERT) \
	X(cred_private_cert, MODEM_KEY_MGMT_CRED_TYPE_PRIVATE_CERT) \
	X(cred_psk, MODEM_KEY_MGMT_CRED_TYPE_PSK) \
	X(cred_identity, MODEM_KEY_MGMT_CRED_TYPE_IDENTITY) \
	X(lte_evt_nw_reg_status, LTE_LC_EVT_NW_REG_STATUS) \
	X(lte_not_registered, LTE_LC_NW_REG_NOT_REGISTERED) \
	X(lte_registered_home, LTE_LC_NW_REG_REGISTERED_HOME) \
	X(lte_searching, LTE_LC_NW_REG_SEARCHING) \
	X(lte_registration_denied, LTE_LC_NW_REG_REGISTRATION_DENIED) \
	X(lte_unknown, LTE_LC_NW_REG_UNKNOWN) \
	X(lte_registered_roaming, LTE_LC_NW_REG_REGISTERED_ROAMING) \
	X(lte_uicc_fail, LTE_LC_NW_REG_UICC_FAIL) \
	X(offsetof_lte_lc_evt_nw_reg_status, offsetof(struct lte_lc_evt, nw_reg_status)) \
	X(sizeof_lte_lc_evt_type, sizeof(enum lte_lc_evt_type)) \
	X(dfu_image_mcuboot, DFU_TARGET_IMAGE_TYPE_MCUBOOT) \
	X(dfu_image_modem_delta, DFU_TARGET_IMAGE_TYPE_MODEM_DELTA) \
	X(sys_reboot_cold, SYS_REBOOT_COLD) \
	X(sizeof_mcuboot_img_header, sizeof(struct mcuboot_img_header)) \
	X(offsetof_mcuboot_img_header_sem_ver, offsetof(struct mcuboot_img_header, h.v1.sem_ver)) \
	X(sizeof_mcuboot_img_sem_ver, sizeof(struct mcuboot_img_sem_ver)) \
	X(offsetof_flash_area_fa_off, offsetof(struct flash_area, fa_off)) \
	X(gnss_evt_nmea, NRF_MODEM_GNSS_EVT_NMEA) \
	X(gnss_data_nmea, NRF_MODEM_GNSS_DATA_NMEA) \
	X(gnss_nmea_gga_mask, NRF_MODEM_GNSS_NMEA_GGA_MASK) \
	X(gnss_nmea_rmc_mask, NRF_MODEM_GNSS_NMEA_RMC_MASK) \
	X(gnss_nmea_max_len, NRF_MODEM_GNSS_NMEA_MAX_LEN) \
	X(dk_btn3_msk, DK_BTN3_MSK) \
	X(dk_led1, DK_LED1) \
	X(sensor_chan_accel_z, SENSOR_CHAN_ACCEL_Z)

#endif
