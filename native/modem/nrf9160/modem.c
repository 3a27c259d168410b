/*
 * The nRF9160 modem for the modules modem/at and modem/lte:
 * - AT commands through libmodem's nrf_modem_at_cmd(), answered as the
 *   simulator host's emulated modem answers them: the information lines, then
 *   OK, ERROR, +CME ERROR: n or +CMS ERROR: n (native/common/at-response.h);
 *   the IMEI (AT+CGSN), firmware version (AT+CGMR) and attestation token
 *   (AT%ATTESTTOKEN, the device UUID) are read this way by modem/at;
 * - AT%CMNG writes and deletes handed to NCS's modem key management
 *   (modem_key_mgmt_write, _delete), and its exists and compare by security tag;
 * - unsolicited notifications from the AT monitor (NCS's at_monitor owns
 *   libmodem's nrf_modem_at_notif_handler_set(), which lte_lc needs too);
 * - the LTE link: lte_lc_connect_async() and its event handler, lte_lc_offline().
 *
 * The notification and LTE handlers run in the modem library's and lte_lc's
 * contexts: they never touch XS. A notification is copied into a lock-free
 * ring (native/common/line-ring.h), an LTE status into an atomic; both raise
 * an EventSet (native/common/event-set.h) whose first raise posts to the XS
 * thread with modMessagePostToMachineFromISR, which never waits. A post lost
 * to a full queue is repeated by the next handler call or AT command.
 */

#include "../../nrf9160/binding.h"
#include "../../common/at-response.h"
#include "../../common/event-set.h"
#include "../../common/line-ring.h"

#include <errno.h>
#include <string.h>

#define RESPONSE_SIZE 4200	/* the longest answer: AT%CMNG=2 with a 4 KB certificate */
#define NOTIFICATION_RING 1024
#define NOTIFICATION_MAX 256
#define STALE_POST_MS 250

/* CME errors of AT%CMNG (nRF91 AT command reference), for the key-management results. */
#define CME_NOT_FOUND 513
#define CME_NO_ACCESS 514
#define CME_MEMORY_FULL 515
#define CME_ACTIVE_STATE 518

enum { EVENT_NOTIFICATION = 1, EVENT_LTE = 2 };

static xsMachine* gMachine;
static EventSet gEvents;
static uint8_t gRingStorage[NOTIFICATION_RING];
static LineRing gRing;
static int gRingReady;
static uint32_t gLteStatus = LTE_LC_NW_REG_NOT_REGISTERED;
/* The JavaScript callbacks, kept alive with xsRemember while set. */
static xsSlot gOnNotification;
static int gMonitoring;
static xsSlot gOnLteStatus;
static int gLteConnecting;

static void deliver(void* the, void* refcon, uint8_t* message, uint16_t length);

static void raise(uint32_t bits)
{
	uint32_t now = nrfNow();
	if (!gMachine)
		return;
	if (eventSetRaise(&gEvents, bits, now) || eventSetRepostDue(&gEvents, now, STALE_POST_MS))
		modMessagePostToMachineFromISR(gMachine, deliver, NULL);
}

/* ---- contexts of the modem library and lte_lc ---- */

AT_MONITOR(gNrfCloudAtMonitor, ANY, onNotification);

static void onNotification(const char* notification)
{
	if (!__atomic_load_n(&gRingReady, __ATOMIC_ACQUIRE))
		return;
	size_t length = strlen(notification);
	while (length > 0 && (notification[length - 1] == '\r' || notification[length - 1] == '\n'))
		length--;
	lineRingPut(&gRing, notification, length);
	raise(EVENT_NOTIFICATION);
}

static void onLteEvent(const struct lte_lc_evt* const event)
{
	if (event->type != LTE_LC_EVT_NW_REG_STATUS)
		return;
	__atomic_store_n(&gLteStatus, (uint32_t)event->nw_reg_status, __ATOMIC_RELEASE);
	raise(EVENT_LTE);
}

/* ---- the XS thread ---- */

static void callWithString(xsMachine* the, xsSlot* callback, const char* text, int number)
{
	xsBeginHost(the);
	{
		xsmcVars(2);
		xsmcSetString(xsVar(0), (char*)text);
		xsmcSetInteger(xsVar(1), number);
		xsCallFunction2(*callback, xsUndefined, xsVar(0), xsVar(1));
	}
	xsEndHost(the);
}

static void deliver(void* machine, void* refcon, uint8_t* message, uint16_t length)
{
	xsMachine* the = machine;
	(void)refcon;
	(void)message;
	(void)length;
	uint32_t bits = eventSetTake(&gEvents);
	if (bits & EVENT_NOTIFICATION) {
		char line[NOTIFICATION_MAX];
		while (lineRingTake(&gRing, line, sizeof(line)) >= 0)
			if (gMonitoring)
				callWithString(the, &gOnNotification, line, (int)lineRingTakeDropped(&gRing));
	}
	if ((bits & EVENT_LTE) && gLteConnecting) {
		xsBeginHost(the);
		{
			xsmcVars(1);
			xsmcSetInteger(xsVar(0), (xsIntegerValue)__atomic_load_n(&gLteStatus, __ATOMIC_ACQUIRE));
			xsCallFunction1(gOnLteStatus, xsUndefined, xsVar(0));
		}
		xsEndHost(the);
	}
}

static void start(xsMachine* the)
{
	if (!gMachine) {
		eventSetInit(&gEvents);
		lineRingInit(&gRing, gRingStorage, sizeof(gRingStorage));
		__atomic_store_n(&gRingReady, 1, __ATOMIC_RELEASE);
		gMachine = the;
	}
}

/* The CME error for a key-management result: what AT%CMNG itself answers in that case. */
static int keyResult(int result)
{
	switch (result) {
	case 0: return 0;
	case -ENOENT: return (AT_RESULT_CME_ERROR << 16) | CME_NOT_FOUND;
	case -EACCES: return (AT_RESULT_CME_ERROR << 16) | CME_NO_ACCESS;
	case -ENOMEM: return (AT_RESULT_CME_ERROR << 16) | CME_MEMORY_FULL;
	case -EPERM: return (AT_RESULT_CME_ERROR << 16) | CME_ACTIVE_STATE;	/* the LTE link is active */
	default: return AT_RESULT_ERROR << 16;
	}
}

/*
 * AT%CMNG write (0) and delete (3) of the types modem key management knows
 * (0 to 4): through modem_key_mgmt. Returns 1 with *result set, 0 for commands
 * that go to the modem as they are.
 */
static int keyManagement(const char* command, int* result)
{
	AtCmng cmng;
	int parsed = atParseCmng(command, &cmng);
	if (parsed == 0 || (parsed > 0 && cmng.opcode != 0 && cmng.opcode != 3) || (parsed > 0 && cmng.type > MODEM_KEY_MGMT_CRED_TYPE_IDENTITY))
		return 0;
	if (parsed < 0 || cmng.tag < 0 || cmng.type < 0) {
		*result = AT_RESULT_ERROR << 16;
		return 1;
	}
	enum modem_key_mgmt_cred_type type = (enum modem_key_mgmt_cred_type)cmng.type;
	if (cmng.opcode == 0) {
		if (!cmng.content || !cmng.contentLength) {
			*result = AT_RESULT_ERROR << 16;
			return 1;
		}
		*result = keyResult(modem_key_mgmt_write((nrf_sec_tag_t)cmng.tag, type, cmng.content, cmng.contentLength));
	}
	else
		*result = keyResult(modem_key_mgmt_delete((nrf_sec_tag_t)cmng.tag, type));
	return 1;
}

/* at(command): the modem's response text */
void xs_modem_at(xsMachine* the)
{
	if (xsmcArgc < 1 || xsmcTypeOf(xsArg(0)) != xsStringType)
		xsTypeError("AT command must be a string");
	start(the);
	char* response = k_malloc(RESPONSE_SIZE);
	if (!response)
		nrfThrowErrno(the, ZEPHYR_ENOMEM, "out of memory");
	const char* command = xsmcToString(xsArg(0));
	int result;
	response[0] = 0;
	if (!keyManagement(command, &result))
		result = nrf_modem_at_cmd(response, RESPONSE_SIZE, "%s", command);
	if (result < 0) {
		k_free(response);
		nrfThrowErrno(the, result == -E2BIG ? ZEPHYR_EMSGSIZE : zephyrErrno(-result), "AT command failed: errno %d", -result);
	}
	atResponseFinish(response, RESPONSE_SIZE, result);
	xsmcSetString(xsResult, response);
	k_free(response);
	/* A notification post lost to a full queue goes out again now. */
	if (eventSetRepostDue(&gEvents, nrfNow(), STALE_POST_MS))
		modMessagePostToMachineFromISR(gMachine, deliver, NULL);
}

static void tagAndType(xsMachine* the, nrf_sec_tag_t* tag, enum modem_key_mgmt_cred_type* type)
{
	double value = xsmcArgc > 0 ? xsmcToNumber(xsArg(0)) : -1;
	if (!(value >= 0 && value <= 2147483647.0) || value != (double)(long)value)
		xsRangeError("security tag must be an integer from 0 to 2147483647");
	xsIntegerValue kind = xsmcArgc > 1 ? xsmcToInteger(xsArg(1)) : -1;
	if (kind < MODEM_KEY_MGMT_CRED_TYPE_CA_CHAIN || kind > MODEM_KEY_MGMT_CRED_TYPE_IDENTITY)
		xsRangeError("credential type must be 0 to 4");
	*tag = (nrf_sec_tag_t)value;
	*type = (enum modem_key_mgmt_cred_type)kind;
}

/* keyExists(tag, type): whether the security tag holds a credential of that type */
void xs_modem_key_exists(xsMachine* the)
{
	nrf_sec_tag_t tag;
	enum modem_key_mgmt_cred_type type;
	bool exists = false;
	tagAndType(the, &tag, &type);
	int result = modem_key_mgmt_exists(tag, type, &exists);
	if (result < 0)
		nrfThrowErrno(the, zephyrErrno(-result), "modem key management failed: errno %d", -result);
	xsmcSetBoolean(xsResult, exists);
}

/* keyMatches(tag, type, pem): whether the stored credential is exactly `pem` */
void xs_modem_key_matches(xsMachine* the)
{
	nrf_sec_tag_t tag;
	enum modem_key_mgmt_cred_type type;
	tagAndType(the, &tag, &type);
	if (xsmcArgc < 3 || xsmcTypeOf(xsArg(2)) != xsStringType)
		xsTypeError("credential must be a string");
	const char* pem = xsmcToString(xsArg(2));
	int result = modem_key_mgmt_cmp(tag, type, pem, strlen(pem));
	if (result < 0 && result != -ENOENT)
		nrfThrowErrno(the, zephyrErrno(-result), "modem key management failed: errno %d", -result);
	xsmcSetBoolean(xsResult, result == 0);
}

/* monitor(callback | undefined): callback(line, dropped) for each unsolicited notification */
void xs_modem_monitor(xsMachine* the)
{
	start(the);
	if (gMonitoring) {
		xsForget(gOnNotification);
		gMonitoring = 0;
	}
	if (xsmcArgc > 0 && xsmcIsCallable(xsArg(0))) {
		gOnNotification = xsArg(0);
		xsRemember(gOnNotification);
		gMonitoring = 1;
	}
}

/* lteConnect(onStatus): brings the link up; onStatus(registration status) as it changes */
void xs_lte_connect(xsMachine* the)
{
	if (xsmcArgc < 1 || !xsmcIsCallable(xsArg(0)))
		xsTypeError("onStatus must be a function");
	start(the);
	if (gLteConnecting)
		xsForget(gOnLteStatus);
	gOnLteStatus = xsArg(0);
	xsRemember(gOnLteStatus);
	gLteConnecting = 1;
	int result = lte_lc_connect_async(onLteEvent);
	if (result < 0) {
		xsForget(gOnLteStatus);
		gLteConnecting = 0;
		nrfThrowErrno(the, zephyrErrno(-result), "LTE connect failed: errno %d", -result);
	}
}

/* lteOffline(): the link down (CFUN=4), credentials writable again */
void xs_lte_offline(xsMachine* the)
{
	int result = lte_lc_offline();
	if (result < 0)
		nrfThrowErrno(the, zephyrErrno(-result), "LTE offline failed: errno %d", -result);
	__atomic_store_n(&gLteStatus, LTE_LC_NW_REG_NOT_REGISTERED, __ATOMIC_RELEASE);
	if (gLteConnecting) {
		lte_lc_deregister_handler(onLteEvent);
		xsForget(gOnLteStatus);
		gLteConnecting = 0;
	}
}

/* lteStatus(): the registration status now */
void xs_lte_status(xsMachine* the)
{
	enum lte_lc_nw_reg_status status = LTE_LC_NW_REG_UNKNOWN;
	int result = lte_lc_nw_reg_status_get(&status);
	if (result < 0)
		nrfThrowErrno(the, zephyrErrno(-result), "LTE status failed: errno %d", -result);
	xsmcSetInteger(xsResult, (xsIntegerValue)status);
}
