#include <helics/helics.h>
