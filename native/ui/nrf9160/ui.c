/*
 * The board's buttons, LEDs and orientation on the nRF9160 for
 * sensors/buttons, sensors/leds and sensors/orientation, with Zephyr's
 * dk_buttons_and_leds library (its button handler runs on the system work
 * queue; it records presses in an atomic and posts once to the XS thread).
 *
 * Buttons: DK_BTN1 and DK_BTN2 are buttons 1 and 2 (the nRF9160 DK's Button 1
 * and 2; the Thingy:91's one button is DK_BTN1). LEDs: dk_set_led(DK_LED1 +
 * n - 1). Orientation: on the Thingy:91 (CONFIG_ADXL362) the accelerometer,
 * read every 500 ms on the system work queue through Zephyr's sensor API:
 * upside down below -0.5 g on Z, right way up above +0.5 g, unchanged between
 * (the board on its side); on the nRF9160 DK, which has no accelerometer,
 * Switch 1 (DK_BTN3): on is upside down.
 */

#include "../../nrf9160/binding.h"
#include "../ui-xs.h"

#define EVENT_BUTTONS 1u
#define EVENT_ORIENTATION 2u
#define FLIP_BUTTON DK_BTN3_MSK
#define PRESS_BUTTONS (DK_BTN1_MSK | DK_BTN2_MSK)

static xsMachine* gMachine;
static UiListeners gButtons;
static UiListeners gOrientations;
static int gButtonsReady;
static int gLedsReady;
static uint32_t gPressed;	/* buttons pressed since the last delivery (atomic) */
static uint32_t gPosted;	/* a delivery is on its way (atomic) */
static int gUpsideDown;	/* written by the work queue, read by XS (atomic) */

static void deliver(void* the, void* refcon, uint8_t* message, uint16_t length);

static void post(void)
{
	if (gMachine && !__atomic_exchange_n(&gPosted, 1, __ATOMIC_ACQ_REL))
		modMessagePostToMachineFromISR(gMachine, deliver, NULL);
}

static void setUpsideDown(int upsideDown)
{
	if (__atomic_exchange_n(&gUpsideDown, upsideDown, __ATOMIC_ACQ_REL) != upsideDown)
		post();
}

/* ---- the system work queue ---- */

static void onButtons(uint32_t state, uint32_t changed)
{
	uint32_t pressed = state & changed & PRESS_BUTTONS;
	if (pressed) {
		__atomic_fetch_or(&gPressed, pressed, __ATOMIC_ACQ_REL);
		post();
	}
#if !defined(CONFIG_ADXL362)
	if (changed & FLIP_BUTTON)
		setUpsideDown((state & FLIP_BUTTON) ? 1 : 0);
#endif
}

#if defined(CONFIG_ADXL362)
#define ACCELEROMETER_PERIOD_MS 500
static struct k_work_delayable gAccelerometerWork;

static void readAccelerometer(struct k_work* work)
{
	const struct device* accelerometer = DEVICE_DT_GET_ONE(adi_adxl362);
	struct sensor_value z;
	(void)work;
	if (sensor_sample_fetch(accelerometer) == 0 && sensor_channel_get(accelerometer, SENSOR_CHAN_ACCEL_Z, &z) == 0) {
		/* m/s²: val1 whole, val2 millionths; half of g either way decides. */
		double g = ((double)z.val1 + (double)z.val2 / 1000000.0) / 9.80665;
		if (g < -0.5)
			setUpsideDown(1);
		else if (g > 0.5)
			setUpsideDown(0);
	}
	k_work_schedule(&gAccelerometerWork, K_MSEC(ACCELEROMETER_PERIOD_MS));
}
#endif

/* ---- the XS thread ---- */

static void uncaught(xsMachine* the)
{
	xsThrow(xsException);
}

static void deliver(void* machine, void* refcon, uint8_t* message, uint16_t length)
{
	xsMachine* the = machine;
	static int reported;
	(void)refcon;
	(void)message;
	(void)length;
	__atomic_store_n(&gPosted, 0, __ATOMIC_RELEASE);
	uint32_t pressed = __atomic_exchange_n(&gPressed, 0, __ATOMIC_ACQ_REL);
	for (int button = 1; button <= 2; button++)
		if (pressed & (1u << (button - 1)))
			uiNotify(the, &gButtons, button, uncaught);
	int upsideDown = __atomic_load_n(&gUpsideDown, __ATOMIC_ACQUIRE);
	if (upsideDown != reported) {
		reported = upsideDown;
		uiNotify(the, &gOrientations, upsideDown, uncaught);
	}
}

static void startInputs(xsMachine* the)
{
	gMachine = the;
	if (gButtonsReady)
		return;
	int result = dk_buttons_init(onButtons);
	if (result != 0)
		nrfThrowErrno(the, result < 0 ? -result : ZEPHYR_EIO, "buttons: dk_buttons_init failed (%d)", result);
	gButtonsReady = 1;
#if defined(CONFIG_ADXL362)
	if (!device_is_ready(DEVICE_DT_GET_ONE(adi_adxl362)))
		nrfThrowErrno(the, ZEPHYR_EIO, "orientation: the accelerometer is not ready");
	k_work_init_delayable(&gAccelerometerWork, readAccelerometer);
	k_work_schedule(&gAccelerometerWork, K_NO_WAIT);
#else
	uint32_t state, changed;
	dk_read_buttons(&state, &changed);
	__atomic_store_n(&gUpsideDown, (state & FLIP_BUTTON) ? 1 : 0, __ATOMIC_RELEASE);
#endif
}

void xs_buttons_destructor(void* data)
{
	uiNoDestructor(data);
}

void xs_buttons_constructor(xsMachine* the)
{
	startInputs(the);
	uiListen(the, &gButtons, "buttons");
}

void xs_buttons_close(xsMachine* the)
{
	uiUnlisten(the, &gButtons);
}

void xs_orientation_destructor(void* data)
{
	uiNoDestructor(data);
}

void xs_orientation_constructor(xsMachine* the)
{
	startInputs(the);
	uiListen(the, &gOrientations, "orientation");
}

void xs_orientation_read(xsMachine* the)
{
	xsmcSetInteger(xsResult, __atomic_load_n(&gUpsideDown, __ATOMIC_ACQUIRE));
}

void xs_orientation_close(xsMachine* the)
{
	uiUnlisten(the, &gOrientations);
}

void xs_led_destructor(void* data)
{
	uiNoDestructor(data);
}

void xs_led_constructor(xsMachine* the)
{
	uiLedArgument(the);
	if (!gLedsReady) {
		int result = dk_leds_init();
		if (result != 0)
			nrfThrowErrno(the, result < 0 ? -result : ZEPHYR_EIO, "led: dk_leds_init failed (%d)", result);
		gLedsReady = 1;
	}
	uiLedOpen(the);
}

void xs_led_write(xsMachine* the)
{
	int led = uiLedOf(the);
	int value = uiLedValue(the);
	int result = dk_set_led((uint8_t)(DK_LED1 + led - 1), (uint32_t)value);
	if (result != 0)
		nrfThrowErrno(the, result < 0 ? -result : ZEPHYR_EIO, "led: dk_set_led failed (%d)", result);
}

void xs_led_close(xsMachine* the)
{
	xsmcSetHostData(xsThis, NULL);
}
